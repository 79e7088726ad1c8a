import { test, expect, Page } from '@playwright/test';
import { failOnBrowserErrors, password, signIn, openWorkspaceSecrets, fromThisSite } from './support';

// Runs after foundation.spec.ts, secrets.spec.ts and tokens.spec.ts on the same server: the administrator, the
// `view` user and the "RNA-seq production" workspace (genomics / rnaseq) exist.

const admin = 'admin@example.org';
const viewer = 'viewer@example.org';
const maintainer = 'maintainer@example.org';
const canary = `canary-${Date.now()}-override`;

test.describe.configure({ mode: 'serial' });

failOnBrowserErrors();

async function addSecret(page: Page, name: string, value: string) {
  await page.getByTestId('new-secret-button').click();
  const form = page.getByTestId('add-secret-form');
  await form.getByLabel('Name', { exact: true }).fill(name);
  await page.getByTestId('secret-value').fill(value);
  await form.getByRole('button', { name: 'Add' }).click();
  await expect(page.getByTestId('secret-row').filter({ hasText: name })).toBeVisible();
  // The form closed with the value gone from the page.
  await expect(page.getByTestId('add-secret-form')).toHaveCount(0);
}

test('the administrator adds a maintainer to the workspace', async ({ page }) => {
  await signIn(page, admin);
  const created = await page.request.post('/sfn/create_user', {
    headers: fromThisSite,
    form: { email: maintainer, display_name: 'Mia Maintainer', password },
  });
  expect(created.status()).toBe(200);
  await openWorkspaceSecrets(page);
  const workspaceUrl = page.url().match(/\/orgs\/(\d+)\/workspaces\/(\d+)/)!;
  const added = await page.request.put(`/api/orgs/${workspaceUrl[1]}/workspaces/${workspaceUrl[2]}/participants/add`, {
    headers: fromThisSite,
    data: { userNameOrEmail: maintainer, role: 'maintain' },
  });
  expect(added.status()).toBe(200);
});

test('a maintainer adds, updates and deletes a secret; the value is nowhere on the page', async ({ page }) => {
  await signIn(page, maintainer);
  await openWorkspaceSecrets(page);
  await addSecret(page, 'LICENSE_KEY', canary);
  const row = page.getByTestId('secret-row').filter({ hasText: 'LICENSE_KEY' });
  await row.getByTestId('edit-secret').click();
  await row.getByTestId('new-secret-value').fill(`${canary}-2`);
  await Promise.all([
    page.waitForResponse((r) => r.url().includes('/sfn/update_secret') && r.status() === 200),
    row.getByRole('button', { name: 'Save' }).click(),
  ]);
  expect(await page.content()).not.toContain(canary);
  await row.getByTestId('delete-secret').click();
  await row.getByTestId('confirm-delete').click();
  await expect(page.getByTestId('secret-row').filter({ hasText: 'LICENSE_KEY' })).toHaveCount(0);
  // Maintainers manage secrets, not people: no Audit tab.
  await expect(page.getByRole('link', { name: 'Audit', exact: true })).toHaveCount(0);
});

test('a personal secret with a workspace secret\'s name shows which one wins, in both lists', async ({ page }) => {
  await signIn(page, admin);
  await openWorkspaceSecrets(page);
  await addSecret(page, 'SHARED_TOKEN', canary);
  // The administrator has no personal SHARED_TOKEN: no badge for them.
  await expect(page.getByTestId('secret-row').filter({ hasText: 'SHARED_TOKEN' }).getByTestId('override-badge')).toHaveCount(0);

  await page.getByTestId('user-menu-button').click();
  await page.getByTestId('user-menu').getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await signIn(page, viewer);
  await page.goto('/user/secrets');
  await page.locator('body[data-hydrated="true"]').waitFor();
  await addSecret(page, 'SHARED_TOKEN', `${canary}-mine`);
  const mine = page.getByTestId('secret-row').filter({ hasText: 'SHARED_TOKEN' });
  await expect(mine.getByTestId('override-badge')).toHaveText('Wins at launch over genomics / rnaseq');
  // A personal secret with no workspace twin has no badge.
  await expect(page.getByTestId('secret-row').filter({ hasText: 'MY_TOKEN' }).getByTestId('override-badge')).toHaveCount(0);

  await page.goto('/');
  await openWorkspaceSecrets(page);
  const shared = page.getByTestId('secret-row').filter({ hasText: 'SHARED_TOKEN' });
  await expect(shared.getByTestId('override-badge')).toHaveText('Yours wins at launch');
  expect(await page.content()).not.toContain(canary);
});

test('owners read the workspace audit trail; the instance view lists sign-ins', async ({ page }) => {
  await signIn(page, admin);
  await openWorkspaceSecrets(page);
  await page.getByRole('link', { name: 'Audit', exact: true }).click();
  const rows = page.getByTestId('audit-row');
  await expect(rows.filter({ hasText: 'LICENSE_KEY' }).first()).toBeVisible();
  await expect(page.locator('[data-testid="audit-row"][data-action="secret.deleted"]').filter({ hasText: 'LICENSE_KEY' })).toHaveCount(1);
  await expect(page.locator('[data-testid="audit-row"][data-action="participant.added"]').filter({ hasText: maintainer })).toBeVisible();
  expect(await page.content()).not.toContain(canary);

  await page.getByTestId('user-menu-button').click();
  await page.getByTestId('user-menu').getByRole('link', { name: 'Audit log' }).click();
  await expect(page.getByRole('heading', { name: 'Audit log' })).toBeVisible();
  await expect(page.locator('[data-testid="audit-row"][data-action="sign-in"]').filter({ hasText: viewer }).first()).toBeVisible();
  // Entries name their workspace, not its id.
  await expect(page.getByTestId('audit-workspace').filter({ hasText: 'RNA-seq production' }).first()).toBeVisible();

  // Filters: who and what narrow the list, live in the address (so paging and reloads keep
  // them), and a filter matching nothing says so.
  const filters = page.getByTestId('audit-filters');
  await filters.getByLabel('Who').fill(viewer);
  await filters.getByLabel('What').selectOption({ label: 'Sign-ins' });
  await page.getByTestId('audit-filter-apply').click();
  await expect(page).toHaveURL(/who=viewer%40example\.org.*what=sign-in|what=sign-in.*who=viewer/);
  await expect(rows.first()).toBeVisible();
  for (const row of await rows.all()) {
    await expect(row).toHaveAttribute('data-action', 'sign-in');
    await expect(row).toContainText(viewer);
  }
  await expect(filters.getByLabel('Who')).toHaveValue(viewer);
  await filters.getByLabel('Outcome').selectOption('denied');
  await page.getByTestId('audit-filter-from').fill('2000-01-01');
  await page.getByTestId('audit-filter-to').fill('2000-01-02');
  await page.getByTestId('audit-filter-apply').click();
  await expect(page.getByTestId('audit-empty')).toHaveText('No entries match these filters.');
  await page.getByTestId('audit-filter-clear').click();
  await expect(rows.first()).toBeVisible();
  await expect(filters.getByLabel('Who')).toHaveValue('');
});
