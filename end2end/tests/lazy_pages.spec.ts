import { test, expect } from '@playwright/test';
import { failOnBrowserErrors, signIn } from './support';

// Each page's code is a WASM chunk of its own (app/src/routes.rs; `cargo xtask site` cuts the
// WASM): a visit fetches the main module and the chunks of the page it opens, as one bundle the
// page names for the browser to preload (xtask/src/page_bundles.rs), and another page's chunks
// only once that page is shown, one by one. After foundation.spec.ts, which made the account.

const admin = 'admin@example.org';

failOnBrowserErrors();

test("a page fetches its own code, and another page's only when it is shown", async ({ page }) => {
  const fetched: string[] = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path.endsWith('.wasm')) fetched.push(path);
  });
  const fetchedFor = (view: string) => fetched.filter((path) => path.includes(`_${view}_route_view_`));

  await page.goto('/login');
  await page.locator('body[data-hydrated="true"]').waitFor();
  const preloaded = await page
    .locator('link[rel="preload"][as="fetch"]')
    .evaluateAll((links) => links.map((link) => new URL((link as HTMLLinkElement).href).pathname));
  expect(preloaded.filter((path) => /^\/pkg\/strongroom\.[0-9a-f]+\.wasm$/.test(path))).toHaveLength(1);
  expect(preloaded.filter((path) => path.includes('_login_page_route_view_'))).toEqual([
    expect.stringMatching(/^\/pkg\/bundle___login_page_route_view_\w+\.[0-9a-f]+\.wasm$/),
  ]);
  expect(fetched).toEqual(expect.arrayContaining(preloaded));
  // Fetched once: the loader's fetch takes the preloaded answer.
  expect(fetched.filter((path) => path.startsWith('/pkg/bundle_')), 'one bundle, once').toHaveLength(1);
  // The bundle holds the page's chunks: none is fetched on its own.
  expect(fetched.filter((path) => /\/pkg\/(chunk_|split_)/.test(path)), 'no chunk on its own').toEqual([]);
  expect(fetchedFor('your_secrets_page')).toEqual([]);

  await signIn(page, admin);
  await page.locator('body[data-hydrated="true"]').waitFor();
  expect(fetchedFor('your_secrets_page'), 'not before the page is shown').toEqual([]);
  await page.getByTestId('user-menu-button').click();
  await page.getByTestId('user-menu').getByRole('link', { name: 'Your secrets' }).click();
  await expect(page).toHaveURL(/\/user\/secrets$/);
  await expect(page.getByTestId('your-secrets')).toBeVisible();
  // A later page fetches the chunks it still lacks, not a bundle repeating those it has.
  expect(fetchedFor('your_secrets_page')).toEqual([
    expect.stringMatching(/^\/pkg\/split___your_secrets_page_route_view_\w+\.[0-9a-f]+\.wasm$/),
  ]);
});

// A bundle that cannot be fetched (the network, or a new release replaced it) costs only the
// bundle: the page fetches its chunks one by one and works. Not `failOnBrowserErrors`: the loader
// warns about the failed bundle, which is what this test provokes.
test("a page whose bundle cannot be fetched fetches its chunks one by one and works", async ({ browser }) => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const fetched: string[] = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path.endsWith('.wasm')) fetched.push(path);
  });
  await page.route(/\/pkg\/bundle_/, (route) => route.abort());

  await signIn(page, admin);
  await page.goto('/user/secrets');
  await page.locator('body[data-hydrated="true"]').waitFor();
  expect(fetched.filter((path) => path.includes('/pkg/split___your_secrets_page_route_view_'))).toHaveLength(1);
  expect(fetched.filter((path) => path.includes('/pkg/chunk_')).length, 'its shared chunks').toBeGreaterThan(0);
  // The page's own handlers run: the search filter answers.
  await expect(page.getByTestId('your-secrets')).toBeVisible();
  await page.getByTestId('secret-search').fill('NO_SUCH_SECRET_NAME');
  await expect(page.getByTestId('no-match').or(page.getByTestId('no-secrets'))).toBeVisible();
  expect(errors, 'no error on the page').toEqual([]);
  await page.close();
});

// The forms that open from a button ("New secret", "New compute environment", …) are one more
// chunk (app/src/components/deferred.rs): not fetched with the page, fetched when one opens.
test('a form that opens from a button fetches its code when it first opens', async ({ page }) => {
  const fetched: string[] = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path.endsWith('.wasm')) fetched.push(path);
  });
  const forms = () => fetched.filter((path) => path.includes('split_deferred_forms'));

  await signIn(page, admin);
  await page.goto('/user/secrets');
  await page.locator('body[data-hydrated="true"]').waitFor();
  await expect(page.getByTestId('your-secrets')).toBeVisible();
  expect(forms(), 'not with the page').toEqual([]);
  await page.getByTestId('new-secret-button').click();
  await expect(page.locator('#secret-name')).toBeVisible();
  expect(forms()).toHaveLength(1);
  await page.getByTestId('new-secret-button').click();
  await page.getByTestId('new-secret-button').click();
  await expect(page.locator('#secret-name')).toBeVisible();
  expect(forms(), 'once').toHaveLength(1);
});
