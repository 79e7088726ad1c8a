import { test, expect } from '@playwright/test';
import { failOnBrowserErrors, password, openWorkspaceSecrets, signIn } from './support';

// Keyboards, screen readers and links, after foundation.spec.ts: a deep link survives signing
// in, the user menu closes on Escape (focus back on its button) and on a click outside it, the
// current tab says so to screen readers, and each page has a title of its own.

const admin = 'admin@example.org';

failOnBrowserErrors();

test('a deep link survives signing in', async ({ page }) => {
  await page.goto('/user/tokens');
  await expect(page).toHaveURL(/\/login\?next=%2Fuser%2Ftokens$/);
  await expect(page).toHaveTitle('Sign in · Strongroom');
  await page.locator('body[data-hydrated="true"]').waitFor();
  await page.getByLabel('Email').fill(admin);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/user\/tokens$/);
  await expect(page).toHaveTitle('Access tokens · Strongroom');
});

test('the user menu closes on Escape and on a click outside it', async ({ page }) => {
  await signIn(page, admin);
  const button = page.getByTestId('user-menu-button');
  const links = page.getByTestId('user-menu').getByRole('link', { name: 'Your secrets' });
  await button.click();
  await expect(button).toHaveAttribute('aria-expanded', 'true');
  await expect(links).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(button).toHaveAttribute('aria-expanded', 'false');
  await expect(links).toBeHidden();
  await expect(button).toBeFocused();

  await button.click();
  await expect(links).toBeVisible();
  await page.getByRole('heading', { name: 'Organizations and workspaces' }).click();
  await expect(button).toHaveAttribute('aria-expanded', 'false');
  await expect(links).toBeHidden();
});

test('the current tab is announced and every tab has its own title', async ({ page }) => {
  await signIn(page, admin);
  await openWorkspaceSecrets(page);
  await expect(page).toHaveTitle('Secrets · Strongroom');
  const tabs = page.getByRole('navigation', { name: 'Workspace' });
  await expect(tabs.getByRole('link', { name: 'Secrets' })).toHaveAttribute('aria-current', 'page');
  await expect(tabs.getByRole('link', { name: 'Members' })).not.toHaveAttribute('aria-current', 'page');
  await tabs.getByRole('link', { name: 'Members' }).click();
  await expect(page).toHaveTitle('Members · Strongroom');
  await expect(tabs.getByRole('link', { name: 'Members' })).toHaveAttribute('aria-current', 'page');
  await expect(tabs.getByRole('link', { name: 'Secrets' })).not.toHaveAttribute('aria-current', 'page');
});
