import { test, expect, request } from '@playwright/test';
import { failOnBrowserErrors, signIn } from './support';

// Runs after foundation.spec.ts on the same server: the administrator exists. The token created
// here is shown once; after a reload it must be nowhere in the page.

const admin = 'admin@example.org';
const tokenName = `e2e-token-${Date.now()}`;

test.describe.configure({ mode: 'serial' });

failOnBrowserErrors();

/** Calls the REST API with only the bearer token: a fresh context, without the page's cookies. */
async function userInfoStatus(baseURL: string | undefined, token: string): Promise<number> {
  const api = await request.newContext({ baseURL });
  try {
    const response = await api.get('/api/user-info', { headers: { Authorization: `Bearer ${token}` } });
    return response.status();
  } finally {
    await api.dispose();
  }
}

test('a user creates an access token, sees it once, uses it and deletes it', async ({ page, baseURL }) => {
  await signIn(page, admin);
  await page.locator('body[data-hydrated="true"]').waitFor();
  await page.getByTestId('user-menu-button').click();
  await page.getByTestId('user-menu').getByRole('link', { name: 'Access tokens' }).click();
  await expect(page).toHaveURL(/\/user\/tokens$/);
  // The menu closes with the page it was opened on.
  await expect(page.getByTestId('user-menu-button')).toHaveAttribute('aria-expanded', 'false');
  await expect(page.getByTestId('tokens-page')).toBeVisible();
  await page.locator('body[data-hydrated="true"]').waitFor();

  // An out-of-range lifetime is refused before it is sent.
  const form = page.getByTestId('create-token-form');
  await form.getByLabel('Name').fill(tokenName);
  await form.getByLabel('Expires after (days)').fill('5000');
  await expect(page.getByTestId('token-days-hint')).toContainText('1 to 3650 days');
  await expect(form.getByRole('button', { name: 'Create token' })).toBeDisabled();
  await form.getByLabel('Expires after (days)').fill('30');
  await form.getByRole('button', { name: 'Create token' }).click();

  const shown = page.getByTestId('new-token');
  await expect(shown).toContainText('This is the only time the token is shown');
  const field = page.getByTestId('new-token-value');
  await expect(field).toHaveValue(/^sr_/);
  const token = await field.inputValue();
  expect(token.length).toBeGreaterThan(10);
  await expect(page.getByTestId('copy-token')).toBeVisible();
  const row = page.getByTestId('token-row').filter({ hasText: tokenName });
  await expect(row).toBeVisible();

  // The token works on the REST API, on its own.
  expect(await userInfoStatus(baseURL, token)).toBe(200);

  // A second token with the same name is refused with the server's message.
  await form.getByLabel('Name').fill(tokenName);
  await form.getByRole('button', { name: 'Create token' }).click();
  await expect(page.getByRole('alert')).toContainText('already have a token named');

  // Gone after a reload: the page never shows it again.
  await page.reload();
  await page.locator('body[data-hydrated="true"]').waitFor();
  await expect(page.getByTestId('token-row').filter({ hasText: tokenName })).toBeVisible();
  await expect(page.getByTestId('new-token')).toHaveCount(0);
  expect(await page.content()).not.toContain(token);

  // Delete asks first, in a dialog naming the token; cancelling keeps it.
  const listed = page.getByTestId('token-row').filter({ hasText: tokenName });
  await listed.getByTestId('delete-token').click();
  const dialog = page.getByRole('dialog', { name: `Delete the token ${tokenName}?` });
  await expect(dialog).toContainText('are refused from now on');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(listed.getByTestId('confirm-delete')).toHaveCount(0);
  await listed.getByTestId('delete-token').click();
  await Promise.all([
    page.waitForResponse((r) => r.url().includes('/sfn/delete_token') && r.status() === 200),
    listed.getByTestId('confirm-delete').click(),
  ]);
  await expect(page.getByTestId('token-row').filter({ hasText: tokenName })).toHaveCount(0);

  expect(await userInfoStatus(baseURL, token)).toBe(401);
});
