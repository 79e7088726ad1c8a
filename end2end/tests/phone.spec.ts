import { test, expect } from '@playwright/test';
import { failOnBrowserErrors, signIn, openWorkspaceSecrets } from './support';

// The everyday stories on a 390×844 phone, by touch (the `phone` project of
// playwright.config.ts): every control they need is on screen without sideways scrolling, and
// the delete question fits the screen. Runs after the desktop stories (the administrator and
// "RNA-seq production" exist) and leaves the workspace's secrets as it found them.

const admin = 'admin@example.org';
const phone = { width: 390, height: 844 };

test.describe.configure({ mode: 'serial' });

failOnBrowserErrors();

async function pageWidth(page: import('@playwright/test').Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth);
}

test('on a phone, a secret is added and deleted through the dialog', async ({ page }) => {
  await signIn(page, admin);
  await openWorkspaceSecrets(page);
  await page.getByTestId('new-secret-button').tap();
  const form = page.getByTestId('add-secret-form');
  await form.getByLabel('Name').fill('PHONE_SECRET');
  await page.getByTestId('secret-value').fill('typed on a phone');
  const add = form.getByRole('button', { name: 'Add' });
  await add.scrollIntoViewIfNeeded();
  await expect(add).toBeInViewport();
  await add.tap();
  const row = page.getByTestId('secret-row').filter({ hasText: 'PHONE_SECRET' });
  await expect(row).toBeVisible();
  expect(await pageWidth(page)).toBeLessThanOrEqual(phone.width);

  // The row's actions are on screen (a card, not a sideways-scrolling table).
  const remove = row.getByTestId('delete-secret');
  await remove.scrollIntoViewIfNeeded();
  await expect(remove).toBeInViewport();
  await remove.tap();
  const dialog = page.getByRole('dialog', { name: 'Delete the secret PHONE_SECRET?' });
  await expect(dialog).toBeInViewport({ ratio: 1 });
  const box = (await dialog.boundingBox())!;
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(phone.width);
  await dialog.getByRole('button', { name: 'Delete' }).tap();
  await expect(row).toHaveCount(0);
  await expect(page.getByTestId('secrets-notice')).toHaveText('PHONE_SECRET deleted.');
});

test('on a phone, the launch form and its optional fields fit the screen', async ({ page }) => {
  await signIn(page, admin);
  await openWorkspaceSecrets(page);
  await page.goto(page.url().replace(/\/secrets$/, '/launch'));
  await expect(page.getByTestId('launch-form')).toBeVisible();
  await page.locator('body[data-hydrated="true"]').waitFor();
  await page.getByTestId('launch-advanced').locator('summary').tap();
  const params = page.getByLabel('Parameters', { exact: true });
  await expect(params).toBeVisible();
  await params.fill('{"outdir": "results"}');
  const submit = page.getByTestId('launch-submit');
  await submit.scrollIntoViewIfNeeded();
  await expect(submit).toBeInViewport();
  expect(await pageWidth(page)).toBeLessThanOrEqual(phone.width);
});
