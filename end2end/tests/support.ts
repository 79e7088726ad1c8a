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

/** The forms a value could take if something stored it: raw, base64, base64url, hex, URL-encoded, JSON-escaped. */
export function encodings(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const base64 = bytes.toString('base64');
  return [
    value,
    base64,
    base64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''),
    bytes.toString('hex'),
    encodeURIComponent(value),
    JSON.stringify(value).slice(1, -1),
  ];
}

/**
 * Everything the browser keeps for this site, as text: localStorage, sessionStorage, every
 * IndexedDB database's records, the Cache Storage entries (URLs and bodies) and the cookies.
 */
export async function browserStorage(page: Page): Promise<string> {
  const kept = await page.evaluate(async () => {
    const parts: string[] = [];
    for (const store of [localStorage, sessionStorage]) {
      for (let i = 0; i < store.length; i++) {
        const key = store.key(i)!;
        parts.push(key, store.getItem(key) ?? '');
      }
    }
    for (const info of await indexedDB.databases()) {
      if (!info.name) continue;
      const db: IDBDatabase = await new Promise((ok, fail) => {
        const open = indexedDB.open(info.name!);
        open.onsuccess = () => ok(open.result);
        open.onerror = () => fail(open.error);
      });
      for (const name of Array.from(db.objectStoreNames)) {
        const all: unknown[] = await new Promise((ok, fail) => {
          const request = db.transaction(name, 'readonly').objectStore(name).getAll();
          request.onsuccess = () => ok(request.result);
          request.onerror = () => fail(request.error);
        });
        parts.push(name, JSON.stringify(all));
      }
      db.close();
    }
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const request of await cache.keys()) {
        const response = await cache.match(request);
        parts.push(request.url, response ? await response.text() : '');
      }
    }
    return parts.join('\n');
  });
  const cookies = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('\n');
  return `${kept}\n${cookies}`;
}

/** Fails if any of `values`, in any of its encodings, is anywhere the browser keeps data. */
export async function expectNotInBrowserStorage(page: Page, values: string[]) {
  const kept = await browserStorage(page);
  for (const value of values) {
    for (const form of encodings(value)) {
      expect(kept.includes(form), `a secret value (as ${form.slice(0, 12)}…) is in the browser's storage`).toBe(false);
    }
  }
}
