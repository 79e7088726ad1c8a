import { test, expect } from '@playwright/test';
import { signIn } from './support';

// The forms that open from a button are fetched when one first opens (deferred.rs). When that
// fetch fails, the page says so where the form would be and keeps working: the WASM must not
// panic (a panic stops every handler on the page), and opening the form again tries again.
// After foundation.spec.ts, which made the account. Not `failOnBrowserErrors`: the chunk loader
// logs the failed fetch itself, which is what this test provokes.

const admin = 'admin@example.org';

test('a form whose code cannot be fetched says so, and opens once it can', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });

  await signIn(page, admin);
  await page.goto('/user/secrets');
  await page.locator('body[data-hydrated="true"]').waitFor();
  await page.route(/split_deferred_forms\./, (route) => route.abort());
  await page.getByTestId('new-secret-button').click();
  await expect(page.getByTestId('deferred-not-loaded')).toContainText('could not be loaded');
  await expect(page.locator('#secret-name')).toHaveCount(0);
  expect(errors.filter((text) => /panicked|unreachable/.test(text)), 'no panic').toEqual([]);

  await page.unroute(/split_deferred_forms\./);
  await page.getByTestId('new-secret-button').click();
  await page.getByTestId('new-secret-button').click();
  await expect(page.locator('#secret-name')).toBeVisible();
  await expect(page.getByTestId('deferred-not-loaded')).toHaveCount(0);
  // The page's own handlers still run: the search filter answers.
  await page.getByTestId('secret-search').fill('NO_SUCH_SECRET_NAME');
  await expect(page.getByTestId('no-match').or(page.getByTestId('no-secrets'))).toBeVisible();
  expect(errors.filter((text) => /panicked|unreachable/.test(text)), 'no panic').toEqual([]);
});
