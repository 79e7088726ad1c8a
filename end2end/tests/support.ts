import { test, expect, Page } from '@playwright/test';

/**
 * Fails the test in which the page logged any error or warning: the WASM bundle panicking (a
 * hydration mismatch, a failed unwrap), a Leptos warning (a signal read outside a reactive
 * context, say), or the page's Content-Security-Policy refusing anything. Only the browser's own
 * line for a refused request ("Failed to load resource: … 403") is let through: the tests assert
 * those answers themselves.
 */
export function failOnBrowserErrors() {
  let browserErrors: string[] = [];
  test.beforeEach(({ page }) => {
    browserErrors = [];
    page.on('pageerror', (error) => browserErrors.push(error.message));
    page.on('console', (message) => {
      // A Content-Security-Policy violation is reported as a console error ("Refused to ...
      // because it violates the following Content Security Policy directive").
      const text = message.text();
      const kind = message.type();
      if ((kind === 'error' || kind === 'warning') && !/^Failed to load resource/.test(text)) {
        browserErrors.push(`${kind}: ${text}`);
      }
    });
  });
  test.afterEach(() => {
    expect(browserErrors, 'errors in the browser').toEqual([]);
  });
}

/**
 * What a browser says on a request from this site's own pages. `page.request` calls are made by
 * Playwright, not by the page, so they say it themselves: the server refuses a signed-in request
 * that changes something with neither `Origin` nor `Sec-Fetch-Site: same-origin`.
 */
export const fromThisSite = { 'Sec-Fetch-Site': 'same-origin' };

/** The password every account in the suite is created with (foundation.spec.ts). */
export const password = 'correct horse battery staple';

/** Signs in through the form, after hydration, and lands on the home page. */
export async function signIn(page: Page, email: string) {
  await page.goto('/login');
  await page.locator('body[data-hydrated="true"]').waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/$/);
}

/** From the home page, opens the "RNA-seq production" workspace on its Secrets tab. */
export async function openWorkspaceSecrets(page: Page) {
  await page.getByTestId('workspace-link').filter({ hasText: 'RNA-seq production' }).click();
  await expect(page.getByTestId('secrets-tab')).toBeVisible();
  await page.locator('body[data-hydrated="true"]').waitFor();
}
