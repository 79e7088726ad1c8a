import { test, expect, Page } from '@playwright/test';
import { failOnBrowserErrors, signIn, fromThisSite } from './support';

// A managed AWS identity, set up from the Compute tab: the environment has no stored keys, its
// Identity section shows the issuer and the subjects a cloud admin must trust, its Check says
// plainly when the checking user has no role mapped (then passes once they do), and a launch acts
// as the mapped role. The AWS side is moto (started by scripts/e2e, STRONGROOM_MOTO_URL), whose
// STS accepts any web identity token: the token checks themselves are proven by the server's API
// tests against an STS stand-in. Runs after foundation.spec.ts (the administrator, the `view`
// user and `genomics` exist).

const admin = 'admin@example.org';
const viewer = 'viewer@example.org';
const moto = process.env.STRONGROOM_MOTO_URL ?? '';
const stamp = Date.now();
const viewerRole = 'arn:aws:iam::123456789012:role/vic-runs';
const adminRole = 'arn:aws:iam::123456789012:role/ada-runs';

test.describe.configure({ mode: 'serial' });

failOnBrowserErrors();

async function send(page: Page, method: 'post' | 'put', path: string, data: unknown) {
  const response = await page.request[method](path, { headers: fromThisSite, data });
  const text = await response.text();
  expect(response.status(), text).toBeLessThan(300);
  // An update answers 204, with no body.
  return text ? JSON.parse(text) : null;
}

test('a managed AWS identity: the Identity section, a Check that names the missing mapping, then a launch as the role', async ({ page, baseURL }) => {
  test.skip(!moto, 'scripts/e2e starts moto and sets STRONGROOM_MOTO_URL');
  await signIn(page, admin);
  const orgs = await (await page.request.get('/api/orgs')).json();
  const org = orgs.organizations.find((o: { name: string }) => o.name === 'genomics');
  const created = await send(page, 'post', `/api/orgs/${org.orgId}/workspaces`, {
    workspace: { name: `mid${stamp % 100000}`, fullName: 'Managed identity story' },
  });
  const workspaceId = String(created.workspace.id);
  await send(page, 'put', `/api/orgs/${org.orgId}/workspaces/${workspaceId}/participants/add`, {
    userNameOrEmail: viewer, role: 'launch',
  });
  await send(page, 'post', `/api/pipeline-secrets?workspaceId=${workspaceId}`, { name: 'DB_PASS', value: `mid-${stamp}` });
  const base = `/orgs/${org.orgId}/workspaces/${workspaceId}`;

  // One identity per launching user; only the viewer has a role so far.
  await page.goto(`${base}/compute`);
  await page.locator('body[data-hydrated="true"]').waitFor();
  await page.getByTestId('new-compute-env-button').click();
  const form = page.getByTestId('add-compute-env-form');
  await form.getByLabel('Name').fill('aws-managed');
  await page.getByTestId('compute-env-region').fill('us-east-1');
  await page.getByTestId('compute-env-queue').fill('q');
  await page.getByTestId('compute-env-role').fill('arn:aws:iam::123456789012:role/exec');
  await page.getByTestId('compute-env-endpoint').fill(moto);
  await page.getByTestId('compute-env-cloud-identity').selectOption('user');
  await expect(page.getByTestId('compute-env-credentials')).toHaveCount(0);
  await page.getByTestId('compute-env-cloud-mappings').fill(`${viewer} ${viewerRole}`);
  await page.getByTestId('add-compute-env').click();
  const row = page.getByTestId('compute-env-row').filter({ hasText: 'aws-managed' });
  await expect(row).toContainText('managed identity');

  // The Identity section: the issuer is this server's public URL; the viewer's subject maps to
  // their role, with the trust policy to paste.
  const identity = row.locator('xpath=following-sibling::tr[@data-testid="identity-row"][1]');
  await identity.locator('summary').first().click();
  await expect(identity.getByTestId('identity-issuer')).toHaveText(baseURL!.replace(/\/$/, ''));
  await expect(identity.getByTestId('identity-audience')).toHaveText('sts.amazonaws.com');
  const subject = identity.getByTestId('identity-subject');
  await expect(subject).toHaveCount(1);
  await expect(subject).toContainText(viewerRole);
  await expect(subject.getByTestId('identity-subject-sub')).toHaveText(new RegExp(`^org:${org.orgId}:wsp:${workspaceId}:user:\\d+$`));
  await subject.getByTestId('fix-document').first().locator('summary').click();
  await expect(subject.getByTestId('fix-document').first()).toContainText('sts:AssumeRoleWithWebIdentity');
  // The Azure federated credential for the same subject, with the command that adds it.
  const azure = subject.getByTestId('fix-document').filter({ hasText: 'Azure' });
  await azure.locator('summary').click();
  await expect(azure).toContainText('az ad app federated-credential create');
  await expect(azure).toContainText('api://AzureADTokenExchange');

  // The administrator checks it: no role is mapped for them, said with their subject.
  await row.getByTestId('check-compute-env').click();
  const outcome = row.locator('xpath=following-sibling::tr[@data-testid="check-row"][1]');
  await expect(outcome.getByTestId('check-result')).toContainText('No cloud identity is mapped for subject', { timeout: 20_000 });
  await expect(row.getByTestId('compute-env-status')).toHaveText('INVALID');

  // Once the administrator has a role too, the Check exchanges a token and passes.
  const envs = await (await page.request.get(`/api/compute-envs?workspaceId=${workspaceId}`)).json();
  const env = envs.computeEnvs.find((e: { name: string }) => e.name === 'aws-managed');
  const described = await (await page.request.get(`/api/compute-envs/${env.id}?workspaceId=${workspaceId}`)).json();
  const config = described.computeEnv.config;
  config.cloudIdentity.mappings.push({ userEmail: admin, roleArn: adminRole });
  await send(page, 'put', `/api/compute-envs/${env.id}?workspaceId=${workspaceId}`, { config });
  await page.reload();
  await page.locator('body[data-hydrated="true"]').waitFor();
  const again = page.getByTestId('compute-env-row').filter({ hasText: 'aws-managed' });
  await again.getByTestId('check-compute-env').click();
  const passed = again.locator('xpath=following-sibling::tr[@data-testid="check-row"][1]');
  await expect(passed.getByTestId('check-result')).toContainText('Ready', { timeout: 20_000 });
  await expect(again.getByTestId('compute-env-status')).toHaveText('AVAILABLE');

  // A launch from the form acts as the administrator's role: its copy is made in moto.
  await page.goto(`${base}/launch`);
  await page.locator('body[data-hydrated="true"]').waitFor();
  await page.getByLabel('Pipeline').fill('nf-core/demo');
  await page.getByTestId('compute-env-select').selectOption(String(env.id));
  await page.getByTestId('workspace-secrets').getByLabel('DB_PASS').check();
  await page.getByTestId('launch-submit').click();
  await expect(page).toHaveURL(new RegExp(`${base}/runs/[0-9A-Za-z]{14}$`));
  await expect(page.locator('[data-testid="copy-row"][data-name="DB_PASS"]')).toHaveAttribute(
    'data-state', /created|deleted/, { timeout: 20_000 });
  expect(await page.content()).not.toContain(`mid-${stamp}`);
});
