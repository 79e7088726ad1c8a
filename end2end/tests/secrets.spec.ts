import { test, expect } from '@playwright/test';
import { failOnBrowserErrors, signIn, openWorkspaceSecrets, fromThisSite, expectNotInBrowserStorage, encodings } from './support';

// Runs after foundation.spec.ts on the same server: the administrator, the `view` user and the
// "RNA-seq production" workspace exist. Values typed here are canaries that must never come back.

const admin = 'admin@example.org';
const viewer = 'viewer@example.org';
const canary = `canary-${Date.now()}-first`;
const canary2 = `canary-${Date.now()}-second`;

test.describe.configure({ mode: 'serial' });

failOnBrowserErrors();

test('an owner adds and updates a workspace secret; the value never comes back', async ({ page }) => {
  await signIn(page, admin);
  await openWorkspaceSecrets(page);
  // List first, teaching when empty: the form opens from "New secret".
  await expect(page.getByTestId('no-secrets')).toContainText('secrets.DB_PASSWORD');
  await expect(page.getByTestId('add-secret-form')).toHaveCount(0);
  await page.getByTestId('new-secret-button').click();
  const form = page.getByTestId('add-secret-form');
  await form.getByLabel('Name').fill('BAD-NAME');
  await expect(page.getByTestId('secret-name-hint')).toContainText('No \'-\'');
  // Surrounding spaces are trimmed, and the counter shows the rule's limit.
  await form.getByLabel('Name').fill('  DB_PASSWORD ');
  await expect(page.getByTestId('secret-name-count')).toHaveText('11 / 50');
  await page.getByTestId('secret-value').fill(canary);
  await form.getByRole('button', { name: 'Add' }).click();
  const row = page.getByTestId('secret-row').filter({ hasText: 'DB_PASSWORD' });
  await expect(row).toBeVisible();
  await expect(row).toHaveClass(/row-changed/);
  await expect(page.getByTestId('secrets-notice')).toHaveText('DB_PASSWORD saved. Its value cannot be shown again.');
  await expect(page.getByTestId('add-secret-form')).toHaveCount(0);
  expect(await page.content()).not.toContain(canary);

  // A name already taken is caught while typing, before anything is sent; the typed name stays
  // and the way to update that secret instead opens its value field.
  await page.getByTestId('new-secret-button').click();
  await expect(page.getByTestId('secrets-notice')).toHaveCount(0);
  await expect(page.getByTestId('secret-value')).toHaveValue('');
  await form.getByLabel('Name').fill('DB_PASSWORD');
  await expect(page.getByTestId('secret-name-taken')).toContainText('DB_PASSWORD already exists here.');
  await page.getByTestId('secret-value').fill('x');
  await expect(form.getByRole('button', { name: 'Add' })).toBeDisabled();
  await expect(form.getByLabel('Name')).toHaveValue('DB_PASSWORD');
  await page.getByTestId('update-instead').click();
  await expect(page.getByTestId('add-secret-form')).toHaveCount(0);
  await expect(row.getByTestId('new-secret-value')).toBeVisible();
  await row.getByRole('button', { name: 'Cancel' }).click();

  // A filter with no match says so, rather than "No secrets yet".
  await page.getByTestId('secret-search').fill('NOTHING_LIKE_THIS');
  await expect(page.getByTestId('no-match')).toContainText('NOTHING_LIKE_THIS');
  await page.getByTestId('secret-search').fill('');
  await expect(row).toBeVisible();

  await row.getByTestId('edit-secret').click();
  await row.getByTestId('new-secret-value').fill(canary2);
  await Promise.all([
    page.waitForResponse((r) => r.url().includes('/sfn/update_secret') && r.status() === 200),
    row.getByRole('button', { name: 'Save' }).click(),
  ]);
  await expect(row.getByTestId('new-secret-value')).toHaveCount(0);
  await expect(page.getByTestId('secrets-notice')).toContainText('DB_PASSWORD updated.');
  await page.reload();
  await expect(page.getByTestId('secret-row').filter({ hasText: 'DB_PASSWORD' })).toBeVisible();
  const html = await page.content();
  expect(html).not.toContain(canary);
  expect(html).not.toContain(canary2);
  // Nor anywhere the browser keeps data for the site, in any encoding.
  await expectNotInBrowserStorage(page, [canary, canary2]);
});

test('the browser-storage scan finds a value planted in any encoding (the control)', async ({ page }) => {
  await signIn(page, admin);
  const planted = `canary-${Date.now()}-planted`;
  for (const form of encodings(planted)) {
    await page.evaluate((f) => sessionStorage.setItem('planted', f), form);
    let found = false;
    try {
      await expectNotInBrowserStorage(page, [planted]);
    } catch {
      found = true;
    }
    expect(found, `the scan misses ${form}`).toBe(true);
  }
  await page.evaluate(() => sessionStorage.removeItem('planted'));
  // In IndexedDB and the Cache Storage too.
  await page.evaluate(async (value) => {
    const db: IDBDatabase = await new Promise((ok) => {
      const open = indexedDB.open('planted', 1);
      open.onupgradeneeded = () => open.result.createObjectStore('s');
      open.onsuccess = () => ok(open.result);
    });
    await new Promise((ok) => {
      const tx = db.transaction('s', 'readwrite');
      tx.objectStore('s').put({ v: value }, 'k');
      tx.oncomplete = ok;
    });
    db.close();
  }, planted);
  await expect(expectNotInBrowserStorage(page, [planted])).rejects.toThrow();
  await page.evaluate(() => new Promise((ok) => { const r = indexedDB.deleteDatabase('planted'); r.onsuccess = ok; }));
  await page.evaluate(async (value) => { await (await caches.open('planted')).put('/planted', new Response(value)); }, planted);
  await expect(expectNotInBrowserStorage(page, [planted])).rejects.toThrow();
  await page.evaluate(() => caches.delete('planted'));
  await expectNotInBrowserStorage(page, [planted]);
});

test('a view member sees names and dates, no controls, and cannot force a write', async ({ page }) => {
  await signIn(page, viewer);
  await openWorkspaceSecrets(page);
  await expect(page.getByTestId('secret-row').filter({ hasText: 'DB_PASSWORD' })).toBeVisible();
  await expect(page.getByTestId('add-secret-form')).toHaveCount(0);
  await expect(page.getByTestId('edit-secret')).toHaveCount(0);
  await expect(page.getByTestId('delete-secret')).toHaveCount(0);
  const workspaceId = page.url().match(/\/workspaces\/(\d+)/)![1];
  const forced = await page.request.post('/sfn/create_secret', {
    headers: fromThisSite,
    form: { workspace_id: workspaceId, name: 'SNEAKY', value: 'x' },
  });
  expect(forced.status()).toBe(403);
  await page.reload();
  await expect(page.getByTestId('secret-row').filter({ hasText: 'SNEAKY' })).toHaveCount(0);
});

test('a user keeps secrets of their own under Your secrets', async ({ page }) => {
  await signIn(page, viewer);
  await page.getByTestId('user-menu-button').click();
  await page.getByTestId('user-menu').getByRole('link', { name: 'Your secrets' }).click();
  await expect(page.getByTestId('your-secrets')).toBeVisible();
  await page.getByTestId('new-secret-button').click();
  await page.getByTestId('add-secret-form').getByLabel('Name', { exact: true }).fill('MY_TOKEN');
  await page.getByTestId('secret-value').fill(canary);
  await page.getByRole('button', { name: 'Add' }).click();
  await expect(page.getByTestId('secret-row').filter({ hasText: 'MY_TOKEN' })).toBeVisible();
  expect(await page.content()).not.toContain(canary);
});

test('an owner deletes a secret after confirming', async ({ page }) => {
  await signIn(page, admin);
  await openWorkspaceSecrets(page);
  const row = page.getByTestId('secret-row').filter({ hasText: 'DB_PASSWORD' });
  // The question is a modal dialog naming the secret; focus starts on Cancel, and Escape (like
  // Cancel) deletes nothing.
  await row.getByTestId('delete-secret').click();
  const dialog = page.getByRole('dialog', { name: 'Delete the secret DB_PASSWORD?' });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('Launches that use it will fail');
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await row.getByTestId('delete-secret').click();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(row).toBeVisible();
  await row.getByTestId('delete-secret').click();
  await row.getByTestId('confirm-delete').click();
  await expect(page.getByTestId('secret-row').filter({ hasText: 'DB_PASSWORD' })).toHaveCount(0);
  await expect(page.getByTestId('secrets-notice')).toHaveText('DB_PASSWORD deleted.');
  await expect(page.getByTestId('no-secrets')).toBeVisible();
  // The administrator does not see the viewer's own secret anywhere.
  await page.goto('/user/secrets');
  await expect(page.getByTestId('secret-row').filter({ hasText: 'MY_TOKEN' })).toHaveCount(0);
});
