import { test, expect } from '@playwright/test';
import { failOnBrowserErrors, signIn } from './support';

// Each page's code is a WASM chunk of its own (app/src/routes.rs; `cargo xtask site` cuts the
// WASM): a visit fetches the main module and the chunks of the page it opens, which the page
// names for the browser to preload, and another page's chunk only once that page is shown.
// After foundation.spec.ts, which made the account.

const admin = 'admin@example.org';

failOnBrowserErrors();

test("a page fetches its own code, and another page's only when it is shown", async ({ page }) => {
  const fetched: string[] = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path.endsWith('.wasm')) fetched.push(path);
  });
  const fetchedFor = (view: string) => fetched.filter((path) => path.includes(`_${view}_route_view_`));

  await page.goto('/login');
  await page.locator('body[data-hydrated="true"]').waitFor();
  const preloaded = await page
    .locator('link[rel="preload"][as="fetch"]')
    .evaluateAll((links) => links.map((link) => new URL((link as HTMLLinkElement).href).pathname));
  expect(preloaded.filter((path) => /^\/pkg\/strongroom\.[0-9a-f]+\.wasm$/.test(path))).toHaveLength(1);
  expect(preloaded.filter((path) => path.includes('_login_page_route_view_'))).toHaveLength(1);
  expect(fetched).toEqual(expect.arrayContaining(preloaded));
  expect(fetchedFor('your_secrets_page')).toEqual([]);

  await signIn(page, admin);
  await page.locator('body[data-hydrated="true"]').waitFor();
  expect(fetchedFor('your_secrets_page'), 'not before the page is shown').toEqual([]);
  await page.getByTestId('user-menu-button').click();
  await page.getByTestId('user-menu').getByRole('link', { name: 'Your secrets' }).click();
  await expect(page).toHaveURL(/\/user\/secrets$/);
  await expect(page.getByTestId('your-secrets')).toBeVisible();
  expect(fetchedFor('your_secrets_page')).toHaveLength(1);
});

// The forms that open from a button ("New secret", "New compute environment", …) are one more
// chunk (app/src/components/deferred.rs): not fetched with the page, fetched when one opens.
test('a form that opens from a button fetches its code when it first opens', async ({ page }) => {
  const fetched: string[] = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path.endsWith('.wasm')) fetched.push(path);
  });
  const forms = () => fetched.filter((path) => path.includes('split_deferred_forms'));

  await signIn(page, admin);
  await page.goto('/user/secrets');
  await page.locator('body[data-hydrated="true"]').waitFor();
  await expect(page.getByTestId('your-secrets')).toBeVisible();
  expect(forms(), 'not with the page').toEqual([]);
  await page.getByTestId('new-secret-button').click();
  await expect(page.locator('#secret-name')).toBeVisible();
  expect(forms()).toHaveLength(1);
  await page.getByTestId('new-secret-button').click();
  await page.getByTestId('new-secret-button').click();
  await expect(page.locator('#secret-name')).toBeVisible();
  expect(forms(), 'once').toHaveLength(1);
});
