// The anonymous eligibility check at /revisa in a real browser: without JavaScript, a sequence of
// form posts (life event, questions, result) with the answers carried in the page, never in the
// URL; hydrated, the verdicts follow the answers while they are typed, before any post.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { BASE, launch, eventually, submitAndLoad } = require('./browser.cjs');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

const verdict = (page, code) => page.locator(`article[data-program="${code}"]`).getAttribute('data-verdict');
const next = (page) => submitAndLoad(page, '/revisa', () => page.click('form.questions button[type="submit"]'));

test('without JavaScript, turning 68 leads step by step to a result with reasons and documents', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${BASE}/revisa`);
  await Promise.all([page.waitForURL(/evento=CUMPLI_68$/), page.click('a[data-event="CUMPLI_68"]')]);
  assert.equal(await verdict(page, 'PAAM'), 'needs_information');

  await page.fill('#q-age', '70');
  await page.selectOption('#q-borough', '09007');
  await page.fill('#q-residence_years', '12');
  await next(page);
  // What was typed is in the page, not in the address.
  assert.equal(new URL(page.url()).search, '');
  assert.equal(await verdict(page, 'PAAM'), 'eligible');
  assert.equal(await page.locator('fieldset.question').count(), 1);

  await page.selectOption('#q-fact_social_security', 'none');
  await next(page);
  assert.equal(await page.locator('section.screening').getAttribute('data-done'), 'true');
  assert.equal(await verdict(page, 'PAAM'), 'eligible');
  assert.equal(await verdict(page, 'SMMG'), 'eligible');
  const paam = await page.locator('article[data-program="PAAM"]').innerText();
  assert.match(paam, /Probablemente puedes recibirlo/);
  assert.match(paam, /68/);
  assert.match(await page.locator('ul.offices').innerText(), /Iztapalapa/);

  // An out-of-range answer: the field's message, asked again.
  await page.goto(`${BASE}/revisa?evento=CUMPLI_68`);
  await page.fill('#q-age', '130');
  await next(page);
  assert.match(await page.locator('#q-age-error').innerText(), /fuera del rango/);
  await context.close();
});

test('hydrated, a verdict changes while the age is typed, without a page load', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${BASE}/revisa?evento=CUMPLI_68`);
  await page.evaluate(() => { window.__sameDocument = true; });
  // Typing only re-evaluates once the wasm has hydrated the page: retry until it does.
  const changed = await eventually(async () => {
    await page.fill('#q-age', '');
    await page.fill('#q-age', '60');
    return (await verdict(page, 'PAAM')) === 'not_eligible';
  });
  assert.ok(changed, `the verdict never changed: hydration failed? ${errors.join(' | ')}`);
  await page.fill('#q-age', '75');
  assert.ok(await eventually(async () => (await verdict(page, 'PAAM')) === 'needs_information', 5000));
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no page load happened');
  assert.deepEqual(errors, []);
  await context.close();
});
