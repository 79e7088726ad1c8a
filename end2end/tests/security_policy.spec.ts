import { test, expect } from '@playwright/test';

// The control for the suite's CSP check (support.ts): the page's policy refuses a script that
// carries no nonce, and the refusal shows up as the console error that check looks for. Every
// other test fails on such an error, so the whole suite runs under the policy.
test('the page policy refuses an injected inline script, as the suite would notice', async ({ page }) => {
  const refusals: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) refusals.push(message.text());
  });
  const response = await page.goto('/login');
  expect(response?.headers()['content-security-policy']).toContain("'nonce-");
  await page.locator('body[data-hydrated="true"]').waitFor();
  await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.injectedByTest = true';
    document.head.appendChild(script);
  });
  await expect.poll(() => refusals.length).toBeGreaterThan(0);
  expect(await page.evaluate(() => (window as any).injectedByTest)).toBeUndefined();
});
