import { test, expect, Page } from '@playwright/test';
import { failOnBrowserErrors, fromThisSite } from './support';

// One serial story against a server with an EMPTY database (scripts/e2e makes one per backend):
// first-visit setup, an organization and a workspace, a second user added as `view`, and that
// user seeing no member controls and being refused a forced role change by the server.

const password = 'correct horse battery staple';
const admin = { email: 'admin@example.org', name: 'Ada Admin' };
const viewer = { email: 'viewer@example.org', name: 'Vic Viewer' };

test.describe.configure({ mode: 'serial' });

/** Loads a page and waits until it has hydrated (the bundle marks <body> when it has). */
async function open(page: Page, path: string) {
  await page.goto(path);
  await page.locator('body[data-hydrated="true"]').waitFor();
}

/**
 * Changes a participant's role as people do: choose, Save (and confirm when granting owner or
 * admin), then wait for the server to answer.
 */
async function changeRole(page: Page, email: string, role: string, confirm = false) {
  const row = page.getByTestId('participant-row').filter({ hasText: email });
  await row.getByTestId('role-select').selectOption(role);
  const answered = page.waitForResponse((r) => r.url().includes('/sfn/set_participant_role'));
  await row.getByTestId('save-role').click();
  if (confirm) await row.getByTestId('confirm-role-change').click();
  await answered;
}

async function signIn(page: Page, email: string) {
  await open(page, '/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/$/);
}

let workspacePath = '';

failOnBrowserErrors();

test('first visit sets up the administrator', async ({ page }) => {
  await open(page, '/');
  await expect(page).toHaveURL(/\/setup$/);
  await page.getByLabel('Email').fill(admin.email);
  await page.getByLabel('Display name').fill(admin.name);
  await page.getByLabel('Password', { exact: true }).fill('short');
  // Client-side feedback from the same rule the server applies: proves the page hydrated.
  await expect(page.getByTestId('setup-hint')).toContainText('at least 8');
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Confirm password').fill(password);
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('heading', { name: 'Organizations and workspaces' })).toBeVisible();
  await expect(page.getByTestId('user-menu-button')).toContainText(admin.name);
});

test('the administrator creates an organization, a workspace and a user', async ({ page }) => {
  await signIn(page, admin.email);
  await page.getByLabel('Name', { exact: true }).first().fill('genomics');
  await page.getByLabel('Full name').first().fill('Genomics Lab');
  await page.getByRole('button', { name: 'Create organization' }).click();
  const org = page.getByTestId('org-card').filter({ hasText: 'Genomics Lab' });
  await expect(org).toBeVisible();

  await org.getByText('New workspace').click();
  const wsName = org.getByTestId('workspace-name');
  await wsName.fill('bad name!');
  await expect(org.getByTestId('workspace-name-hint')).toContainText('letters or digits');
  await wsName.fill('rnaseq');
  await org.getByLabel('Full name').fill('RNA-seq production');
  await org.getByRole('button', { name: 'Create workspace' }).click();
  const link = page.getByTestId('workspace-link').filter({ hasText: 'RNA-seq production' });
  await expect(link).toBeVisible();
  workspacePath = (await link.getAttribute('href'))!.replace(/\/secrets$/, '');

  await open(page, '/admin/users');
  await page.getByTestId('new-user-button').click();
  const form = page.getByTestId('create-user-form');
  await form.getByLabel('Email').fill(viewer.email);
  await form.getByLabel('Display name').fill(viewer.name);
  await form.getByLabel('Initial password').fill(password);
  await form.getByRole('button', { name: 'Create user' }).click();
  await expect(page.getByTestId('users-table')).toContainText(viewer.email);
  // Said in words, and the form (with the initial password) is gone.
  await expect(page.getByTestId('user-created')).toContainText(viewer.email);
  await expect(page.getByTestId('create-user-form')).toHaveCount(0);
  await page.getByTestId('new-user-button').click();
  await expect(form.getByLabel('Initial password')).toHaveValue('');
  await expect(form.getByLabel('Email')).toHaveValue('');
});

test('the administrator adds the user as view and can change roles', async ({ page }) => {
  await signIn(page, admin.email);
  await open(page, `${workspacePath}/members`);
  await expect(page.getByTestId('workspace-title')).toHaveText('RNA-seq production');
  const form = page.getByTestId('add-participant-form');
  // The form offers the least role first and explains it; a refused add keeps what was chosen,
  // so a corrected retry never grants more than that.
  await expect(form.getByLabel('Role')).toHaveValue('view');
  await expect(page.getByTestId('participant-role-help')).toContainText('Read-only');
  await form.getByLabel('Role').selectOption('connect');
  await form.getByLabel('Email').fill('nobody@example.org');
  await form.getByRole('button', { name: 'Add' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'No Strongroom user has that email' })).toBeVisible();
  await expect(form.getByLabel('Role')).toHaveValue('connect');
  await expect(form.getByLabel('Email')).toHaveValue('nobody@example.org');
  await form.getByLabel('Email').fill(viewer.email);
  await form.getByLabel('Role').selectOption('view');
  await form.getByRole('button', { name: 'Add' }).click();
  await expect(page.getByTestId('participant-added')).toHaveText(`${viewer.email} was added as view.`);
  await expect(form.getByLabel('Email')).toHaveValue('');
  const row = page.getByTestId('participant-row').filter({ hasText: viewer.email });
  await expect(row).toBeVisible();
  await expect(row.getByTestId('role-select')).toHaveValue('view');

  // A key press on a focused select changes nothing until Save: the server still says view.
  await row.getByTestId('role-select').focus();
  await page.keyboard.press('ArrowUp');
  await expect(row.getByTestId('save-role')).toBeVisible();
  await open(page, `${workspacePath}/members`);
  await expect(page.getByTestId('participant-row').filter({ hasText: viewer.email }).getByTestId('role-select')).toHaveValue('view');

  // Granting admin asks first and says what an admin may do; Cancel keeps the role.
  await row.getByTestId('role-select').selectOption('admin');
  await row.getByTestId('save-role').click();
  await expect(row.getByTestId('confirm-role')).toContainText('Manages participants');
  await row.getByRole('button', { name: 'Cancel' }).click();
  await expect(row.getByTestId('role-select')).toHaveValue('view');

  // The change is stored once saved: set maintain (said and highlighted), reload, then back to view.
  await changeRole(page, viewer.email, 'maintain');
  await expect(page.getByTestId('members-notice')).toHaveText(`${viewer.email} is now maintain.`);
  await expect(page.getByTestId('participant-row').filter({ hasText: viewer.email })).toHaveClass(/row-changed/);
  await open(page, `${workspacePath}/members`);
  await expect(page.getByTestId('participant-row').filter({ hasText: viewer.email }).getByTestId('role-select')).toHaveValue('maintain');
  await changeRole(page, viewer.email, 'view');
  await open(page, `${workspacePath}/members`);
  await expect(page.getByTestId('participant-row').filter({ hasText: viewer.email }).getByTestId('role-select')).toHaveValue('view');

  // The last owner cannot be demoted: the server says so and nothing changes.
  await changeRole(page, admin.email, 'admin');
  await expect(page.getByRole('alert').filter({ hasText: 'last owner' })).toBeVisible();
  await open(page, `${workspacePath}/members`);
  await expect(page.getByTestId('participant-row').filter({ hasText: admin.email }).getByTestId('role-select')).toHaveValue('owner');

  await page.getByTestId('user-menu-button').click();
  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL(/\/login$/);
});

test('a view member sees no member controls and the server refuses a forced role change', async ({ page }) => {
  await signIn(page, viewer.email);
  await expect(page.getByTestId('workspace-link')).toHaveText('RNA-seq production');
  await open(page, `${workspacePath}/members`);
  const table = page.getByTestId('participants-table');
  await expect(table).toBeVisible();
  await expect(table).toContainText(admin.email);
  await expect(page.getByTestId('add-participant-form')).toHaveCount(0);
  await expect(page.getByTestId('role-select')).toHaveCount(0);
  await expect(page.getByTestId('remove-participant')).toHaveCount(0);

  const row = page.getByTestId('participant-row').filter({ hasText: viewer.email });
  await expect(row.getByTestId('role-badge')).toHaveText('view');
  const participantId = await row.getAttribute('data-participant-id');
  const [, orgId, workspaceId] = workspacePath.match(/\/orgs\/(\d+)\/workspaces\/(\d+)/)!;

  const viaServerFn = await page.request.post('/sfn/set_participant_role', {
    headers: fromThisSite,
    form: { org_id: orgId, workspace_id: workspaceId, participant_id: participantId!, role: 'owner' },
  });
  expect(viaServerFn.status()).toBe(403);
  const viaApi = await page.request.put(`/api/orgs/${orgId}/workspaces/${workspaceId}/participants/${participantId}/role`, {
    headers: fromThisSite,
    data: { role: 'owner' },
  });
  expect(viaApi.status()).toBe(403);
  expect((await viaApi.json()).message).toContain('does not allow');

  await open(page, `${workspacePath}/members`);
  await expect(page.getByTestId('participant-row').filter({ hasText: viewer.email }).getByTestId('role-badge')).toHaveText('view');
});
