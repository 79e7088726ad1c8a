import { test, expect, Page } from '@playwright/test';
import { failOnBrowserErrors, signIn, fromThisSite } from './support';

// A launch on an AWS Batch environment whose endpoint is moto (started by scripts/e2e, which
// gives its address in STRONGROOM_MOTO_URL, with the job queue `q` and Batch jobs held in
// SUBMITTED): the run page shows the head job Strongroom submitted, its state moving when moto
// lets the job run (and, with no container runtime, fails it), and the run ending and cleaning.
// Runs after foundation.spec.ts on the same server (files run in name order; the administrator
// and `genomics` exist).

const admin = 'admin@example.org';
const moto = process.env.STRONGROOM_MOTO_URL ?? '';
const stamp = Date.now();
const canary = `canary-${stamp}-aws-db`;

test.describe.configure({ mode: 'serial' });

failOnBrowserErrors();

async function post(page: Page, path: string, data: unknown) {
  const response = await page.request.post(path, { headers: fromThisSite, data });
  expect(response.status(), await response.text()).toBe(200);
  return response.json();
}

test('an AWS launch shows its head job, the job failing, and the run ending and cleaning', async ({ page }) => {
  test.skip(!moto, 'scripts/e2e starts moto and sets STRONGROOM_MOTO_URL');
  await signIn(page, admin);
  const orgs = await (await page.request.get('/api/orgs')).json();
  const org = orgs.organizations.find((o: { name: string }) => o.name === 'genomics');
  const created = await post(page, `/api/orgs/${org.orgId}/workspaces`, {
    workspace: { name: `aws${stamp % 100000}`, fullName: 'AWS launch story' },
  });
  const workspaceId = String(created.workspace.id);
  const credentials = await post(page, `/api/credentials?workspaceId=${workspaceId}`, {
    credentials: {
      name: 'moto', provider: 'aws',
      keys: { accessKey: 'AKIAIOSFODNN7EXAMPLE', secretKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    },
  });
  const env = await post(page, `/api/compute-envs?workspaceId=${workspaceId}`, {
    computeEnv: {
      name: 'aws-moto', platform: 'aws-batch', credentialsId: credentials.credentialsId,
      config: { region: 'us-east-1', computeQueue: 'q', executionRole: 'arn:aws:iam::123456789012:role/exec',
        endpointUrl: moto },
    },
  });
  await post(page, `/api/pipeline-secrets?workspaceId=${workspaceId}`, { name: 'DB_PASS', value: canary });
  const launched = await post(page, `/api/workflow/launch?workspaceId=${workspaceId}`, {
    launch: { pipeline: 'nf-core/demo', computeEnvId: env.computeEnvId, workspaceSecrets: ['DB_PASS'] },
  });
  const workflowId = launched.workflowId as string;

  // The run page: the head job AWS Batch knows, queued (moto holds it in SUBMITTED), with a link
  // to the AWS console's page of the job.
  await page.goto(`/orgs/${org.orgId}/workspaces/${workspaceId}/runs/${workflowId}`);
  await page.locator('body[data-hydrated="true"]').waitFor();
  await expect(page.getByTestId('head-job-state')).toHaveText('QUEUED', { timeout: 20_000 });
  const run = await (await page.request.get(`/api/workflow/${workflowId}?workspaceId=${workspaceId}`)).json();
  const jobId = run.jobInfo.operationId as string;
  expect(jobId).toMatch(/^[0-9a-f-]{36}$/);
  await expect(page.getByTestId('head-job-id')).toHaveText(jobId);
  await expect(page.getByTestId('head-job-console')).toHaveAttribute('href', new RegExp(`#jobs/detail/${jobId}$`));
  await expect(page.getByTestId('copy-row').filter({ hasText: 'DB_PASS' }).getByTestId('copy-state')).toHaveText('created');

  // moto lets the job go on and fails it: the state moves, the run ends FAILED with AWS Batch's
  // words and its copy is deleted, without anyone reporting anything.
  const moved = await page.request.post(`${moto}/moto-api/state-manager/set-transition`, {
    data: { model_name: 'batch::job', transition: { progression: 'immediate' } },
  });
  expect(moved.ok(), await moved.text()).toBe(true);
  await expect(page.getByTestId('head-job-state')).toHaveText('FAILED', { timeout: 20_000 });
  await expect(page.getByTestId('head-job-reason')).toHaveText('AWS Batch job FAILED without a status reason');
  await expect(page.getByTestId('run-stage')).toHaveText('cleaned', { timeout: 20_000 });
  await expect(page.getByTestId('run-message')).toContainText('The head job ended (AWS Batch job FAILED');
  await expect(page.getByTestId('copy-row').filter({ hasText: 'DB_PASS' }).getByTestId('copy-state')).toHaveText('deleted');
  expect(await page.content()).not.toContain(canary);
});
