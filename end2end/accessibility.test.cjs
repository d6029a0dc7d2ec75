// Every public page passes axe-core's WCAG 2.1 A/AA rules with no serious or critical
// violation, in Spanish and in English, including the states people reach by mistake (field
// errors with their summary, an unknown folio, a refused activation) and a step of the check.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { BASE, launch, submitAndLoad } = require('./browser.cjs');
const { seriousViolations } = require('./a11y.cjs');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

const PUBLIC = ['/', '/programas', '/revisa', '/revisa?evento=CUMPLI_68', '/revisa?evento=MADRE_SOLA',
  '/seguimiento', '/mi-cuenta', '/mi-cuenta/activar', '/entrar', '/activar'];

for (const language of ['es-MX', 'en']) {
  test(`public pages have no serious or critical axe violations (${language})`, async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    if (language === 'en') {
      await page.goto(`${BASE}/idioma/en`);
    }
    const found = [];
    for (const path of PUBLIC) {
      await page.goto(`${BASE}${path}`);
      for (const v of await seriousViolations(page)) found.push(`${path}: ${v}`);
    }
    assert.deepEqual(found, []);
    await context.close();
  });
}

test('error states and a result have no serious or critical axe violations', async () => {
  // JavaScript on: axe runs in the page (the forms still post as they do without it).
  const context = await browser.newContext();
  const page = await context.newPage();
  const found = [];
  const check = async (what) => { for (const v of await seriousViolations(page)) found.push(`${what}: ${v}`); };

  // A step of the check with a field error, then a result.
  await page.goto(`${BASE}/revisa?evento=CUMPLI_68`);
  await page.fill('#q-age', '130');
  await submitAndLoad(page, '/revisa', () => page.click('form.questions button[type="submit"]'));
  await check('revisa, out of range');
  await page.fill('#q-age', '70');
  await page.selectOption('#q-borough', '09007');
  await submitAndLoad(page, '/revisa', () => page.click('form.questions button[type="submit"]'));
  await check('revisa, next step');

  // An unknown folio, and a mistyped one.
  await page.goto(`${BASE}/seguimiento`);
  await page.fill('#f-folio', 'COMCOM-26-000001-X');
  await page.fill('#f-birth_date', '1990-01-01');
  await submitAndLoad(page, '/seguimiento', () => page.click('form[action="/seguimiento"] button'));
  await check('seguimiento, field error or unknown');

  // A refused activation, and one with field errors (the error summary links to the fields).
  await page.goto(`${BASE}/mi-cuenta/activar`);
  await page.fill('#f-card', '123');
  await submitAndLoad(page, '/mi-cuenta/activar', () => page.click('form[action="/mi-cuenta/activar"] button'));
  await check('activar, field errors');
  const links = await page.locator('.error-summary a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  assert.ok(links.includes('#f-card'), `the summary links to the card field: ${links}`);
  for (const href of links) {
    assert.equal(await page.locator(href).count(), 1, `${href} exists`);
  }
  assert.deepEqual(found, []);
  await context.close();
});
