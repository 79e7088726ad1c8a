import { test, expect } from '@playwright/test';

/**
 * Fails the test in which the WASM bundle panicked (a hydration mismatch, a failed unwrap): such
 * a panic shows up as a page error or as a console error that says "panicked".
 */
export function failOnBrowserErrors() {
  let browserErrors: string[] = [];
  test.beforeEach(({ page }) => {
    browserErrors = [];
    page.on('pageerror', (error) => browserErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && /panicked|hydrat/i.test(message.text())) browserErrors.push(message.text());
    });
  });
  test.afterEach(() => {
    expect(browserErrors, 'errors in the browser').toEqual([]);
  });
}
