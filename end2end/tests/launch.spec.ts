import { test, expect, Page } from '@playwright/test';
import { failOnBrowserErrors, signIn, fromThisSite, expectNotInBrowserStorage } from './support';

// Runs after foundation.spec.ts on the same server: the administrator, the `view` user and the
// "RNA-seq production" workspace exist. The launch story uses a workspace of its own, so the
// secrets it adds do not show up in the other specs. Values are canaries that must never reach
// a page.

const admin = 'admin@example.org';
const viewer = 'viewer@example.org';
const stamp = Date.now();
const workspaceValue = `canary-${stamp}-workspace-db`;
const personalValue = `canary-${stamp}-personal-db`;
const otherValue = `canary-${stamp}-personal-api`;
const canaries = [workspaceValue, personalValue, otherValue];
/** The launch story's workspace, set by the first test. */
let base = '';

test.describe.configure({ mode: 'serial' });

failOnBrowserErrors();

async function expectNoSecretValue(page: Page) {
  const html = await page.content();
  for (const canary of canaries) expect(html).not.toContain(canary);
  await expectNotInBrowserStorage(page, canaries);
}

async function createSecret(page: Page, name: string, value: string, workspaceId?: string) {
  const query = workspaceId ? `?workspaceId=${workspaceId}` : '';
  const response = await page.request.post(`/api/pipeline-secrets${query}`, { headers: fromThisSite, data: { name, value } });
  expect(response.status(), await response.text()).toBe(200);
}

test('a launch copies the effective set, follows the copies live and cleans them at the end', async ({ page, request }) => {
  await signIn(page, admin);

  // A workspace of its own, with a workspace DB_PASS; the administrator's own DB_PASS and API_KEY.
  const orgs = await (await page.request.get('/api/orgs')).json();
  const org = orgs.organizations.find((o: { name: string }) => o.name === 'genomics');
  const created = await page.request.post(`/api/orgs/${org.orgId}/workspaces`, {
    headers: fromThisSite,
    data: { workspace: { name: `launch${stamp % 100000}`, fullName: 'Launch story' } },
  });
  expect(created.status(), await created.text()).toBe(200);
  const workspaceId = String((await created.json()).workspace.id);
  base = `/orgs/${org.orgId}/workspaces/${workspaceId}`;
  await createSecret(page, 'DB_PASS', workspaceValue, workspaceId);
  await createSecret(page, 'DB_PASS', personalValue);
  await createSecret(page, 'API_KEY', otherValue);

  // The Runs tab, empty, with the way to the launch form.
  await page.goto(`${base}/runs`);
  await page.locator('body[data-hydrated="true"]').waitFor();
  await expect(page.getByTestId('no-runs')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Runs', exact: true })).toHaveClass(/active/);
  await page.getByTestId('launch-button').click();
  await expect(page).toHaveURL(new RegExp(`${base}/launch$`));
  await expect(page.getByTestId('launch-form')).toBeVisible();

  // Tick the workspace DB_PASS and the personal DB_PASS: the personal value wins, visibly.
  const workspaceSecrets = page.getByTestId('workspace-secrets');
  const userSecrets = page.getByTestId('user-secrets');
  await expect(page.getByTestId('effective-empty')).toBeVisible();
  await workspaceSecrets.getByLabel('DB_PASS').check();
  const dbPass = page.locator('[data-testid="effective-row"][data-name="DB_PASS"]');
  await expect(dbPass).toHaveAttribute('data-source', 'workspace');
  await expect(dbPass.getByTestId('effective-override')).toHaveCount(0);
  await userSecrets.getByLabel('DB_PASS').check();
  await expect(dbPass).toHaveAttribute('data-source', 'user');
  await expect(dbPass.getByTestId('effective-override')).toBeVisible();
  await expect(page.getByTestId('effective-row')).toHaveCount(1);

  // The filter narrows the list; a ticked box stays ticked while hidden.
  await userSecrets.getByTestId('secret-filter').fill('api');
  await expect(userSecrets.getByLabel('DB_PASS')).toHaveCount(0);
  await userSecrets.getByLabel('API_KEY').check();
  await userSecrets.getByTestId('secret-filter').fill('');
  await expect(userSecrets.getByLabel('DB_PASS')).toBeChecked();
  await expect(page.getByTestId('effective-row')).toHaveCount(2);
  await expect(page.locator('[data-testid="effective-row"][data-name="API_KEY"]')).toHaveAttribute('data-source', 'user');

  // Without a pipeline the button stays off; with one, launch on `local`.
  await expect(page.getByTestId('launch-submit')).toBeDisabled();
  await page.getByLabel('Pipeline').fill('nf-core/demo');
  await expect(page.getByTestId('compute-env-select')).toContainText('local (local-platform)');
  // Each option says the environment's status after its name ("local (local-platform) · available").
  const envSelect = page.getByTestId('compute-env-select');
  await envSelect.selectOption((await envSelect.locator('option', { hasText: 'local (local-platform)' }).getAttribute('value'))!);

  // A refused launch says why in plain words (line breaks kept) and the form keeps its input.
  await page.getByLabel('Run name (optional)').fill('1-not-a-name');
  await page.getByTestId('launch-submit').click();
  const refusal = page.getByTestId('launch-error');
  await expect(refusal).toContainText('A run name starts with a letter');
  await expect(refusal).toHaveCSS('white-space', 'pre-wrap');
  await expect(page).toHaveURL(new RegExp(`${base}/launch$`));
  await expect(page.getByLabel('Pipeline')).toHaveValue('nf-core/demo');
  await expect(workspaceSecrets.getByLabel('DB_PASS')).toBeChecked();
  await expect(userSecrets.getByLabel('API_KEY')).toBeChecked();
  await expect(page.getByTestId('effective-row')).toHaveCount(2);

  await page.getByLabel('Run name (optional)').fill('e2e-launch');
  await expectNoSecretValue(page);
  // Marks this document: if the page reloads from here on, the mark is gone.
  await page.evaluate(() => ((window as unknown as { e2eMark: string }).e2eMark = 'no reload'));
  await page.getByTestId('launch-submit').click();

  await expect(page).toHaveURL(new RegExp(`${base}/runs/[0-9A-Za-z]{14}$`));
  const workflowId = page.url().split('/').pop()!;
  await expect(page.getByTestId('run-name')).toHaveText('e2e-launch');
  await expect(page.getByTestId('run-pipeline')).toHaveText('nf-core/demo');
  const copies = page.getByTestId('copy-row');
  await expect(copies).toHaveCount(2);
  await expect(page.locator('[data-testid="copy-row"][data-name="DB_PASS"]')).toHaveAttribute('data-source', 'user');
  await expect(page.locator('[data-testid="copy-row"][data-state="created"]')).toHaveCount(2, { timeout: 20_000 });
  await expect(page.getByTestId('run-stage')).toHaveText('launched', { timeout: 20_000 });
  await expect(page.locator('[data-testid="env-row"][data-name="NXF_SECRETS_FILE"]')).toBeVisible();
  await expect(page.getByTestId('run-command')).toContainText('nextflow run nf-core/demo');
  // The local platform does not start Nextflow: the page says so, pointing to access tokens.
  await expect(page.getByTestId('starts-by-hand')).toContainText('does not start Nextflow for you');
  await expect(page.getByTestId('cancel-run')).toBeVisible();
  await expectNoSecretValue(page);

  // Nextflow reports the end with the launcher's access token (a separate client: no cookie).
  const tokenResponse = await page.request.post('/api/tokens', { headers: fromThisSite, data: { name: `trace-${stamp}` } });
  expect(tokenResponse.status(), await tokenResponse.text()).toBe(200);
  const token = await tokenResponse.json();
  const completed = await request.put(`/api/trace/${workflowId}/complete?workspaceId=${workspaceId}`, {
    headers: { Authorization: `Bearer ${token.accessKey}` },
    data: { workflow: { success: true } },
  });
  expect(completed.status(), await completed.text()).toBe(200);

  // Still the same document: every copy goes to deleted and the run to cleaned, live.
  await expect(page.getByTestId('run-status')).toHaveText('SUCCEEDED', { timeout: 20_000 });
  await expect(page.locator('[data-testid="copy-row"][data-state="deleted"]')).toHaveCount(2, { timeout: 20_000 });
  await expect(page.getByTestId('run-stage')).toHaveText('cleaned', { timeout: 20_000 });
  await expect(page.getByTestId('cancel-run')).toHaveCount(0);
  // Ended: the command to start it is gone.
  await expect(page.getByTestId('run-command')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { e2eMark?: string }).e2eMark)).toBe('no reload');
  await expectNoSecretValue(page);

  // Cleaned: the page stops asking.
  let polls = 0;
  page.on('request', (r) => { if (r.url().includes('/sfn/describe_run')) polls += 1; });
  await page.waitForTimeout(2_500);
  expect(polls).toBe(0);

  // The run is listed, and a fresh server render shows the same end state.
  await page.getByRole('link', { name: '← All runs' }).click();
  const row = page.locator(`[data-testid="run-row"][data-run-id="${workflowId}"]`);
  await expect(row.getByTestId('run-status')).toHaveText('SUCCEEDED');
  await expect(row.getByTestId('run-stage')).toHaveText('cleaned');
  await expect(row).toContainText(admin);
  await page.goto(`${base}/runs/${workflowId}`);
  await expect(page.locator('[data-testid="copy-row"][data-state="deleted"]')).toHaveCount(2);
  await expectNoSecretValue(page);

  const deleted = await page.request.delete(`/api/tokens/${token.token.id}`, { headers: fromThisSite });
  expect(deleted.status()).toBe(204);
});

test('cancelling a run, after confirming, deletes its copies', async ({ page }) => {
  await signIn(page, admin);
  await page.goto(`${base}/launch`);
  await page.locator('body[data-hydrated="true"]').waitFor();
  await page.getByLabel('Pipeline').fill('nf-core/demo');
  await page.getByTestId('workspace-secrets').getByLabel('DB_PASS').check();
  await page.getByTestId('launch-submit').click();
  await expect(page).toHaveURL(new RegExp(`${base}/runs/[0-9A-Za-z]{14}$`));
  await expect(page.locator('[data-testid="copy-row"][data-state="created"]')).toHaveCount(1, { timeout: 20_000 });
  await expect(page.locator('[data-testid="copy-row"][data-name="DB_PASS"]')).toHaveAttribute('data-source', 'workspace');
  const workflowId = page.url().split('/').pop()!;

  // Leaving the page (in-app navigation, no reload) stops its polling; coming back resumes it.
  await page.getByRole('link', { name: '← All runs' }).click();
  await expect(page.getByTestId('runs-table')).toBeVisible();
  let polls = 0;
  const countPolls = (r: { url(): string }) => { if (r.url().includes('/sfn/describe_run')) polls += 1; };
  page.on('request', countPolls);
  await page.waitForTimeout(2_500);
  page.off('request', countPolls);
  expect(polls).toBe(0);
  await page.locator(`[data-testid="run-row"][data-run-id="${workflowId}"]`).getByTestId('run-link').click();
  await expect(page.locator('[data-testid="copy-row"][data-state="created"]')).toHaveCount(1);

  await page.getByTestId('cancel-run').click();
  await expect(page.getByTestId('confirm-cancel')).toBeVisible();
  await page.getByRole('button', { name: 'Keep it running' }).click();
  await expect(page.getByTestId('run-status')).not.toHaveText('CANCELLED');
  await page.getByTestId('cancel-run').click();
  await page.getByTestId('confirm-cancel-run').click();
  await expect(page.getByTestId('run-status')).toHaveText('CANCELLED', { timeout: 20_000 });
  await expect(page.getByTestId('run-message')).toContainText('Cancelled by Ada Admin.');
  // A cancel is news, not an error.
  await expect(page.getByTestId('run-message')).toHaveAttribute('role', 'status');
  await expect(page.locator('[data-testid="copy-row"][data-state="deleted"]')).toHaveCount(1, { timeout: 20_000 });
  await expect(page.getByTestId('run-stage')).toHaveText('cleaned', { timeout: 20_000 });
  await expect(page.getByTestId('cancel-run')).toHaveCount(0);
  await expectNoSecretValue(page);
});

test('a view member sees the Runs tab without the Launch button', async ({ page }) => {
  await signIn(page, viewer);
  await page.getByTestId('workspace-link').filter({ hasText: 'RNA-seq production' }).click();
  await page.locator('body[data-hydrated="true"]').waitFor();
  await page.getByRole('link', { name: 'Runs', exact: true }).click();
  await expect(page.getByTestId('runs-tab')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Runs', exact: true })).toHaveClass(/active/);
  await expect(page.getByRole('link', { name: 'Secrets', exact: true })).not.toHaveClass(/active/);
  await expect(page.getByTestId('no-runs')).toBeVisible();
  await expect(page.getByTestId('launch-button')).toHaveCount(0);
  // The form itself says no, and so does the server.
  await page.goto(page.url().replace(/\/runs$/, '/launch'));
  await expect(page.getByTestId('launch-not-allowed')).toBeVisible();
  const workspaceId = page.url().match(/\/workspaces\/(\d+)/)![1];
  const forced = await page.request.post(`/api/workflow/launch?workspaceId=${workspaceId}`, {
    headers: fromThisSite,
    data: { launch: { pipeline: 'nf-core/demo' } },
  });
  expect(forced.status()).toBe(403);
});
