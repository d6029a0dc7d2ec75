// The catalog page end to end: without JavaScript, hydrated, and the language switch.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { BASE, launch, eventually } = require('./browser.cjs');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

const programs = (page) => page.locator('[data-program]');
const program = (page, code) => page.locator(`[data-program="${code}"]`);

test('the catalog renders and filters with JavaScript disabled', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const response = await page.goto(`${BASE}/programas`);
  assert.equal(response.status(), 200);
  assert.equal(await page.locator('h1').innerText(), 'Programas por situación de vida');
  assert.ok((await programs(page).count()) >= 15, 'every program is in the page');
  assert.equal(await program(page, 'PAAM').first().isVisible(), true);

  await page.fill('#filtro', 'empleo');
  await Promise.all([page.waitForURL(/\?q=empleo/), page.click('form.filter button')]);
  assert.equal(await program(page, 'SEGDES').count(), 1);
  assert.equal(await program(page, 'PAAM').count(), 0);
  assert.match(await page.locator('.count').innerText(), /^3 de 15 programas/);
  await context.close();
});

test('once hydrated, typing in the filter narrows the list without a page load', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`${BASE}/programas`);
  // A marker that a page load would wipe out.
  await page.evaluate(() => { window.__sameDocument = true; });

  // Typing only filters once the wasm has hydrated the page: retry until it does.
  const narrowed = await eventually(async () => {
    await page.fill('#filtro', '');
    await page.fill('#filtro', 'empleo');
    return (await program(page, 'PAAM').count()) === 0;
  });
  assert.ok(narrowed, `the list never narrowed: hydration failed? ${errors.join(' | ')}`);
  assert.equal(await program(page, 'SEGDES').count(), 1);
  assert.match(await page.locator('.count').innerText(), /^3 de 15 programas/);
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no page load happened');
  assert.equal(new URL(page.url()).search, '', 'filtered in place, not through the form');

  await page.fill('#filtro', '');
  assert.ok(await eventually(async () => (await program(page, 'PAAM').count()) === 1, 5000));
  assert.deepEqual(errors, []);
  await context.close();
});

for (const javaScriptEnabled of [true, false]) {
  test(`the language switch goes to English and back (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, async () => {
    const context = await browser.newContext({ javaScriptEnabled });
    const page = await context.newPage();
    // Switching keeps the page and its search.
    await page.goto(`${BASE}/programas?q=empleo`);
    const h1 = page.locator('h1');
    assert.equal(await h1.innerText(), 'Programas por situación de vida');
    const stillFiltered = async () => {
      assert.equal(new URL(page.url()).search, '?q=empleo');
      assert.equal(await program(page, 'PAAM').count(), 0);
      assert.equal(await program(page, 'SEGDES').count(), 1);
    };

    await page.click('.lang-switch');
    assert.ok(await eventually(async () => (await h1.innerText()) === 'Programs by life event', 15000));
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    assert.match(await program(page, 'SEGDES').locator('h3').innerText(), /^Unemployment Insurance/);
    await stillFiltered();

    await page.click('.lang-switch');
    assert.ok(await eventually(async () => (await h1.innerText()) === 'Programas por situación de vida', 15000));
    assert.equal(await page.locator('html').getAttribute('lang'), 'es-MX');
    await stillFiltered();

    // The choice is remembered: a new page load comes back in the chosen language.
    await page.click('.lang-switch');
    await eventually(async () => (await h1.innerText()) === 'Programs by life event', 15000);
    await page.reload();
    assert.equal(await h1.innerText(), 'Programs by life event');
    await stillFiltered();
    await context.close();
  });
}
