import { test, expect, Page } from '@playwright/test';
import { failOnBrowserErrors, signIn, openWorkspaceSecrets, fromThisSite, expectNotInBrowserStorage } from './support';

// The Compute tab. Runs after foundation.spec.ts on the same server (files run in name order, so
// this one is not called compute.spec.ts): the administrator, the `view` user and the
// "RNA-seq production" workspace exist. The secret access key typed here is a canary that must
// never come back in any page.

const admin = 'admin@example.org';
const viewer = 'viewer@example.org';
const secretKey = `SeCrEt${Date.now()}canary`;

test.describe.configure({ mode: 'serial' });

failOnBrowserErrors();

async function openCompute(page: Page) {
  await openWorkspaceSecrets(page);
  await page.getByRole('link', { name: 'Compute' }).click();
  await expect(page.getByTestId('compute-tab')).toBeVisible();
  await page.locator('body[data-hydrated="true"]').waitFor();
}

test('an admin adds AWS credentials and an AWS Batch environment; the secret key never comes back', async ({ page }) => {
  await signIn(page, admin);
  await openCompute(page);
  const local = page.getByTestId('compute-env-row').filter({ hasText: 'local' });
  await expect(local).toBeVisible();
  // The Check button runs the preflight for real: the local work directory is writable.
  // Its outcome shows in a full-width row right below the environment, and the status follows it.
  await local.getByTestId('check-compute-env').click();
  const outcome = local.locator('xpath=following-sibling::tr[1]');
  await expect(outcome).toHaveAttribute('data-testid', 'check-row');
  await expect(outcome.getByTestId('check-result')).toContainText('Ready');
  await expect(local.getByTestId('compute-env-status')).toHaveText('AVAILABLE');

  // List first: the forms open from their "New …" buttons.
  await expect(page.getByTestId('add-credentials-form')).toHaveCount(0);
  await expect(page.getByTestId('add-compute-env-form')).toHaveCount(0);
  await page.getByTestId('new-credentials-button').click();
  const creds = page.getByTestId('add-credentials-form');
  await creds.getByLabel('Name').fill('aws-e2e');
  await page.getByTestId('credentials-access-key').fill('AKIAIOSFODNN7EXAMPLE');
  // An access key without its secret key is refused in the form, saying what is missing.
  await expect(page.getByTestId('credentials-keys-hint')).toContainText('secret access key');
  await expect(page.getByTestId('add-credentials')).toBeDisabled();
  await page.getByTestId('credentials-secret-key').fill(secretKey);
  await expect(page.getByTestId('credentials-keys-hint')).toHaveText('');
  await expect(page.getByTestId('credentials-secret-key')).toHaveAttribute('type', 'password');
  await page.getByTestId('add-credentials').click();
  const row = page.getByTestId('credentials-row').filter({ hasText: 'aws-e2e' });
  await expect(row).toBeVisible();
  await expect(row).toContainText('AKIAIOSFODNN7EXAMPLE');
  await expect(page.getByTestId('credentials-added')).toBeVisible();
  // The form closed once the credentials were listed; opened again, it is empty.
  await expect(page.getByTestId('add-credentials-form')).toHaveCount(0);
  await page.getByTestId('new-credentials-button').click();
  await expect(page.getByTestId('credentials-secret-key')).toHaveValue('');
  await expect(page.getByTestId('credentials-access-key')).toHaveValue('');
  await page.getByTestId('new-credentials-button').click();
  expect(await page.content()).not.toContain(secretKey);

  // Keys are replaced from the list (a new version): the access key alone is refused in the
  // form, and once saved the form closes, saying so, with nothing typed left in the page.
  await row.getByTestId('replace-credentials-button').click();
  const replace = page.getByTestId('replace-credentials-form');
  await expect(replace).toContainText('New keys for aws-e2e');
  await replace.getByTestId('credentials-access-key').fill('AKIAIOSFODNN7EXAMPLE');
  await expect(replace.getByTestId('replace-credentials')).toBeDisabled();
  await replace.getByTestId('credentials-secret-key').fill(`${secretKey}v2`);
  await replace.getByTestId('replace-credentials').click();
  await expect(page.getByTestId('credentials-replaced')).toBeVisible();
  await expect(replace).toHaveCount(0);
  expect(await page.content()).not.toContain(secretKey);

  // A missing setting is refused with a plain sentence.
  await page.getByTestId('new-compute-env-button').click();
  const env = page.getByTestId('add-compute-env-form');
  await env.getByLabel('Name').fill('aws-batch-e2e');
  await page.getByTestId('compute-env-queue').fill('nextflow-queue');
  await page.getByTestId('compute-env-role').fill('arn:aws:iam::123456789012:role/batch-exec');
  await page.getByTestId('add-compute-env').click();
  await expect(page.getByRole('alert').filter({ hasText: 'need region' })).toBeVisible();

  await page.getByTestId('compute-env-region').fill('eu-west-1');
  await page.getByTestId('compute-env-credentials').selectOption({ label: 'aws-e2e' });
  await page.getByTestId('add-compute-env').click();
  const envRow = page.getByTestId('compute-env-row').filter({ hasText: 'aws-batch-e2e' });
  await expect(envRow).toBeVisible();
  await expect(envRow).toContainText('aws-e2e');
  await expect(envRow).toContainText('eu-west-1');

  await page.reload();
  await expect(page.getByTestId('compute-env-row').filter({ hasText: 'aws-batch-e2e' })).toBeVisible();
  expect(await page.content()).not.toContain(secretKey);
});

test('a view member sees environments and credentials but no forms, and cannot force a write', async ({ page }) => {
  await signIn(page, viewer);
  await openCompute(page);
  await expect(page.getByTestId('compute-env-row').filter({ hasText: 'aws-batch-e2e' })).toBeVisible();
  await expect(page.getByTestId('credentials-row').filter({ hasText: 'aws-e2e' })).toBeVisible();
  await expect(page.getByTestId('add-credentials-form')).toHaveCount(0);
  await expect(page.getByTestId('add-compute-env-form')).toHaveCount(0);
  await expect(page.getByTestId('new-credentials-button')).toHaveCount(0);
  await expect(page.getByTestId('new-compute-env-button')).toHaveCount(0);
  await expect(page.getByTestId('delete-credentials')).toHaveCount(0);
  await expect(page.getByTestId('delete-compute-env')).toHaveCount(0);
  expect(await page.content()).not.toContain(secretKey);
  await expectNotInBrowserStorage(page, [secretKey]);

  const workspaceId = page.url().match(/\/workspaces\/(\d+)/)![1];
  const forced = await page.request.post(`/api/credentials?workspaceId=${workspaceId}`, {
    headers: fromThisSite,
    data: { credentials: { name: 'sneaky', provider: 'aws', keys: { assumeRoleArn: 'arn:aws:iam::123456789012:role/x' } } },
  });
  expect(forced.status()).toBe(403);
});

test('an admin cannot delete credentials in use, and deletes after confirming', async ({ page }) => {
  await signIn(page, admin);
  await openCompute(page);
  const creds = page.getByTestId('credentials-row').filter({ hasText: 'aws-e2e' });
  await creds.getByTestId('delete-credentials').click();
  await creds.getByTestId('confirm-delete').click();
  await expect(page.getByRole('alert').filter({ hasText: "used by the compute environment 'aws-batch-e2e'" })).toBeVisible();

  const env = page.getByTestId('compute-env-row').filter({ hasText: 'aws-batch-e2e' });
  await env.getByTestId('delete-compute-env').click();
  await env.getByTestId('confirm-delete').click();
  await expect(page.getByTestId('compute-env-row').filter({ hasText: 'aws-batch-e2e' })).toHaveCount(0);
  await page.getByTestId('credentials-row').filter({ hasText: 'aws-e2e' }).getByTestId('delete-credentials').click();
  await page.getByTestId('credentials-row').filter({ hasText: 'aws-e2e' }).getByTestId('confirm-delete').click();
  await expect(page.getByTestId('no-credentials')).toBeVisible();
});

test('credentials saved from a form closed before the answer came are listed when it comes', async ({ page }) => {
  // A name of this attempt's own: a retry must not find the first attempt's credentials.
  const name = `aws-late-${Date.now()}`;
  await signIn(page, admin);
  await openCompute(page);
  // The request is held until the form is closed: the answer arrives with no form left open.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let arrived!: () => void;
  const sent = new Promise<void>((resolve) => (arrived = resolve));
  await page.route('**/sfn/create_credentials', async (route) => {
    arrived();
    await held;
    await route.continue();
  });
  await page.getByTestId('new-credentials-button').click();
  const form = page.getByTestId('add-credentials-form');
  await form.getByLabel('Name').fill(name);
  await form.getByTestId('credentials-access-key').fill('AKIAIOSFODNN7EXAMPLE');
  await form.getByTestId('credentials-secret-key').fill(`${secretKey}late`);
  await page.getByTestId('add-credentials').click();
  await sent;
  await page.getByTestId('new-credentials-button').click();
  await expect(form).toHaveCount(0);
  await expect(page.getByTestId('credentials-row').filter({ hasText: name })).toHaveCount(0);
  release();
  const row = page.getByTestId('credentials-row').filter({ hasText: name });
  await expect(row).toBeVisible();
  await expect(page.getByTestId('credentials-added')).toBeVisible();
  await page.unroute('**/sfn/create_credentials');

  await row.getByTestId('delete-credentials').click();
  await row.getByTestId('confirm-delete').click();
  await expect(row).toHaveCount(0);
});
