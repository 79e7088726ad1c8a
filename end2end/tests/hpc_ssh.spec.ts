import { test, expect, Page } from '@playwright/test';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { failOnBrowserErrors, signIn, fromThisSite } from './support';

// HPC over SSH as people do it, on the real test cluster (scripts/cluster/start: a real sshd and a
// one-node Slurm on loopback) that scripts/test starts and names in STRONGROOM_TEST_CLUSTER:
// the administrator creates a managed identity for the cluster and a Slurm environment that uses
// it; the `viewer` user, given the launch role, registers their own cluster account and key,
// launches, sees the scheduler's job id and the copies, and cancels; the job leaves the queue and
// the run's files leave the cluster. Runs after foundation.spec.ts (its accounts exist).

const admin = 'admin@example.org';
const launcher = 'viewer@example.org';
const stamp = Date.now();
const canary = `canary-${stamp}-hpc-licence`;

/** The running test cluster's cluster.env, as KEY=VALUE pairs; null when none is running. */
function clusterEnv(): Record<string, string> | null {
  const file = process.env.STRONGROOM_TEST_CLUSTER;
  if (!file || !fs.existsSync(file)) return null;
  const env: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const at = line.indexOf('=');
    if (!line.startsWith('#') && at > 0) env[line.slice(0, at)] = line.slice(at + 1);
  }
  return env;
}

const cluster = clusterEnv();

test.describe.configure({ mode: 'serial' });

failOnBrowserErrors();

test.beforeAll(() => {
  // scripts/test always runs a cluster and requires it; elsewhere the story is skipped, saying why.
  if (process.env.STRONGROOM_REQUIRE_CLUSTER === '1') {
    expect(cluster, 'STRONGROOM_TEST_CLUSTER names no running test cluster').not.toBeNull();
  }
});

async function open(page: Page, where: string) {
  await page.goto(where);
  await page.locator('body[data-hydrated="true"]').waitFor();
}

/** Every file under `dir` whose path names the run (its store, script, logs, `.nf-*.secrets`). */
function filesNaming(dir: string, workflowId: string): string[] {
  const found: string[] = [];
  const walk = (at: string) => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (full.includes(workflowId)) found.push(full);
      if (entry.isDirectory()) walk(full);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return found;
}

/** Whether Slurm still has the job queued or running. */
function inQueue(jobId: string): boolean {
  const out: string = execFileSync('squeue', ['-h', '-j', jobId, '-o', '%T'], {
    env: { ...process.env, SLURM_CONF: cluster!.SLURM_CONF },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
  return out !== '' && !/COMPLET|CANCEL|FAIL/.test(out);
}

test('a managed identity lets each user launch on the cluster as their own account, and cancel', async ({ page, browser }) => {
  test.skip(cluster === null, 'no test cluster (scripts/cluster/start; STRONGROOM_TEST_CLUSTER)');
  const c = cluster!;
  const workDir = path.join(c.SCRATCH, `e2e-${stamp}`);
  fs.mkdirSync(workDir);
  fs.chmodSync(workDir, 0o1777);

  // The administrator: a workspace of its own, with the launcher in it and a secret to hand over.
  await signIn(page, admin);
  const orgs = await (await page.request.get('/api/orgs')).json();
  const org = orgs.organizations.find((o: { name: string }) => o.name === 'genomics');
  const created = await page.request.post(`/api/orgs/${org.orgId}/workspaces`, {
    headers: fromThisSite,
    data: { workspace: { name: `hpc${stamp % 100000}`, fullName: 'HPC story' } },
  });
  expect(created.status(), await created.text()).toBe(200);
  const workspaceId = String((await created.json()).workspace.id);
  const base = `/orgs/${org.orgId}/workspaces/${workspaceId}`;
  const added = await page.request.put(`/api/orgs/${org.orgId}/workspaces/${workspaceId}/participants/add`, {
    headers: fromThisSite,
    data: { userNameOrEmail: launcher, role: 'launch' },
  });
  expect(added.status(), await added.text()).toBe(200);
  const secret = await page.request.post(`/api/pipeline-secrets?workspaceId=${workspaceId}`, {
    headers: fromThisSite,
    data: { name: 'LICENCE_KEY', value: canary },
  });
  expect(secret.status(), await secret.text()).toBe(200);

  // Identities: one per cluster, its host key pinned by the administrator.
  await open(page, '/identities');
  const card = page.getByTestId('org-identities').filter({ hasText: 'Genomics Lab' });
  await card.getByTestId('new-identity-button').click();
  const identityName = `slurm-e2e-${stamp % 100000}`;
  const form = card.getByTestId('new-identity-form');
  await form.getByTestId('identity-name').fill(identityName);
  await form.getByTestId('identity-host').fill(c.HOST);
  await form.getByTestId('identity-port').fill(c.PORT);
  await form.getByTestId('identity-host-key-input').fill(c.HOST_KEY_FINGERPRINT);
  await form.getByTestId('identity-platform').selectOption('slurm-platform');
  await form.getByRole('button', { name: 'Create identity' }).click();
  const identity = card.getByTestId('identity').filter({ hasText: identityName });
  await expect(identity).toBeVisible();
  await expect(identity.getByTestId('identity-host-key')).toHaveText(c.HOST_KEY_FINGERPRINT);

  // The Compute tab: a Slurm environment using the identity (no shared credentials), with the
  // stand-in Nextflow on the head job's PATH.
  await open(page, `${base}/compute`);
  await page.getByTestId('new-compute-env-button').click();
  const envForm = page.getByTestId('add-compute-env-form');
  await envForm.getByTestId('compute-env-name').fill('slurm-e2e');
  await envForm.getByTestId('compute-env-platform').selectOption('slurm-platform');
  await envForm.getByTestId('compute-env-identity').selectOption({ label: `${identityName} (${c.HOST}:${c.PORT})` });
  await expect(envForm.getByTestId('compute-env-credentials')).toHaveCount(0);
  await envForm.getByTestId('compute-env-work-dir').fill(workDir);
  await envForm.getByTestId('compute-env-pre-run').fill(`export PATH=${c.BIN_DIR}:$PATH`);
  await envForm.getByTestId('add-compute-env').click();
  await expect(page.getByTestId('compute-envs-table')).toContainText('slurm-e2e');

  // The launcher: no credentials yet, so the identity shows as not registered; they add their own.
  const context = await browser.newContext();
  const user = await context.newPage();
  await signIn(user, launcher);
  await open(user, '/user/cluster-credentials');
  const clusterCard = user.getByTestId('cluster-card').filter({ hasText: identityName });
  await expect(clusterCard.getByTestId('cluster-missing')).toBeVisible();
  await clusterCard.getByTestId('cluster-user-name').fill(c.ALICE_USER);
  const privateKey = fs.readFileSync(c.ALICE_KEY, 'utf8');
  await clusterCard.getByTestId('cluster-private-key').fill(privateKey);
  await clusterCard.getByTestId('save-cluster-credentials').click();
  await expect(user.getByTestId('cluster-credentials-saved')).toBeVisible();
  await expect(clusterCard.getByTestId('cluster-account')).toHaveText(c.ALICE_USER);
  await expect(clusterCard.getByTestId('cluster-key-fingerprint')).toHaveText(/^SHA256:/);
  // Write-only: no line of the key's body is in the page (nor in the form, emptied on submit).
  const keyBody = privateKey.split('\n').filter((line) => line && !line.startsWith('-----'));
  const shown = await user.content();
  for (const line of keyBody) expect(shown).not.toContain(line);

  // The administrator sees who has registered.
  await open(page, '/identities');
  await expect(identity).toContainText(c.ALICE_USER);

  // Launch a pipeline that keeps running (the stand-in's test/sleep) with the licence key.
  await open(user, `${base}/launch`);
  await user.getByTestId('workspace-secrets').getByLabel('LICENCE_KEY').check();
  await user.getByLabel('Pipeline').fill('test/sleep');
  // Each option says the environment's status after its name ("slurm-e2e (slurm-platform) · available").
  const envSelect = user.getByTestId('compute-env-select');
  await envSelect.selectOption((await envSelect.locator('option', { hasText: 'slurm-e2e (slurm-platform)' }).getAttribute('value'))!);
  await user.getByTestId('launch-submit').click();
  await expect(user).toHaveURL(new RegExp(`${base}/runs/[0-9A-Za-z]{14}$`));
  const workflowId = user.url().split('/').pop()!;

  // The copy is made on the cluster, the head job submitted as alice: the page shows its id and
  // state, and Nextflow (the stand-in) starts reporting.
  await expect(user.locator('[data-testid="copy-row"][data-state="created"]')).toHaveCount(1, { timeout: 30_000 });
  await expect(user.getByTestId('head-job-id')).toHaveText(/^[0-9]+$/, { timeout: 30_000 });
  const jobId = (await user.getByTestId('head-job-id').textContent())!.trim();
  await expect(user.getByTestId('head-job-state')).toHaveText('RUNNING', { timeout: 30_000 });
  // Strongroom started Nextflow: no command to run by hand.
  await expect(user.getByTestId('run-command')).toHaveCount(0);
  await expect(user.getByTestId('run-status')).toHaveText(/running/i, { timeout: 30_000 });
  const store = filesNaming(workDir, workflowId).find((f) => f.endsWith('secrets.json'));
  expect(store, 'the run store on the cluster').toBeTruthy();
  const stat = fs.statSync(store!);
  expect(stat.mode & 0o777).toBe(0o600);
  expect(stat.uid).toBe(Number(c.ALICE_UID));
  expect(inQueue(jobId)).toBe(true);
  expect(await user.content()).not.toContain(canary);

  // Cancel: the job leaves the queue, the copy is deleted, nothing of the run is left.
  await user.getByTestId('cancel-run').click();
  await user.getByTestId('confirm-cancel-run').click();
  await expect(user.getByTestId('run-stage')).toHaveText('cleaned', { timeout: 60_000 });
  await expect(user.getByTestId('head-job-state')).toHaveText('CANCELLED');
  await expect(user.locator('[data-testid="copy-row"][data-state="deleted"]')).toHaveCount(1);
  await expect.poll(() => inQueue(jobId), { timeout: 20_000 }).toBe(false);
  expect(filesNaming(workDir, workflowId)).toEqual([]);
  expect(await user.content()).not.toContain(canary);
  await context.close();
});
