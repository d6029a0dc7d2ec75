// Under the Content-Security-Policy: hydration runs with zero violations, and staff sign in,
// see their screen and sign out, with and without JavaScript.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { BASE, launch, eventually } = require('./browser.cjs');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

/// A page that records CSP violations (the event and Chromium's console report).
async function watchedPage(context) {
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  return { page, problems };
}

async function violations(page) {
  return page.evaluate(() => window.__csp);
}

/// The demo password of an account, read from the sign-in page (demo database only).
async function demoPassword(page, username) {
  await page.goto(`${BASE}/entrar`);
  const row = page.locator('section.demo tr', { hasText: username });
  return (await row.locator('td').nth(1).innerText()).trim();
}

test('the hydrated catalog works under the CSP with zero violations', async () => {
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context);
  const response = await page.goto(`${BASE}/programas`);
  const csp = response.headers()['content-security-policy'];
  assert.match(csp, /script-src 'self' 'nonce-[A-Za-z0-9_-]+' 'wasm-unsafe-eval'/);
  assert.match(csp, /object-src 'none'/);
  // Typing only filters once the wasm has hydrated the page: retry until it does.
  assert.ok(await eventually(async () => {
    await page.fill('#filtro', '');
    await page.fill('#filtro', 'empleo');
    return /^3 de 15 programas/.test(await page.locator('.count').innerText());
  }), 'the WebAssembly ran and filtered in place');
  assert.deepEqual(await violations(page), []);
  assert.deepEqual(problems, []);
  await context.close();
});

test('staff sign in with JavaScript, see their screen, and sign out', async () => {
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context);
  const password = await demoPassword(page, 'demo.admin');
  assert.ok(password.length >= 15, 'the demo accounts are listed on the sign-in page');
  await page.fill('#f-username', 'demo.admin');
  await page.fill('#f-password', password);
  await Promise.all([page.waitForURL(`${BASE}/admin`), page.click('form[action="/entrar"] button')]);
  assert.equal(await page.locator('h1').innerText(), 'Administración');
  assert.ok(await page.locator('tr[data-staff="demo.trabajo"]').count() === 1);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'angel_session');
  assert.ok(session && session.httpOnly, 'HttpOnly session cookie');
  await page.waitForTimeout(500);
  assert.deepEqual(await violations(page), []);
  assert.deepEqual(problems, []);
  await Promise.all([page.waitForURL(`${BASE}/entrar`), page.click('form[action="/salir"] button')]);
  const response = await page.goto(`${BASE}/admin`);
  assert.equal(new URL(page.url()).pathname, '/entrar', 'signed out: back to sign-in');
  assert.equal(response.status(), 200);
  await context.close();
});

test('without JavaScript a wrong password shows the error and the right one signs in', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const password = await demoPassword(page, 'demo.trabajo');
  await page.fill('#f-username', 'demo.trabajo');
  await page.fill('#f-password', 'esta no es la contraseña correcta');
  await page.click('form[action="/entrar"] button');
  assert.match(await page.locator('[role="alert"]').first().innerText(), /no son correctos/);
  await page.fill('#f-username', 'demo.trabajo');
  await page.fill('#f-password', password);
  await Promise.all([page.waitForURL(`${BASE}/oficina`), page.click('form[action="/entrar"] button')]);
  assert.match(await page.locator('h1').innerText(), /Oficina/);
  await context.close();
});
