import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { routes, routeUrl, type Message } from '@simorgh/contracts';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_PASSWORD, USERS } from '@simorgh/devstack/fixtures';
import { apiSession } from './api-setup.js';
import { ARTIFACTS_DIR, launchChromium, openPage, openTab, waitUntil, type BrowserPage } from './browser.js';
import { MODEL_TITLE, startE2eStack, type E2eStack } from './e2e-stack.js';

/** This file's screenshots and logs, apart from the other journeys'. */
const LIVE_DIR = join(ARTIFACTS_DIR, 'live');
/** A reply of 240 word tokens, 40 ms apart: about ten seconds, long enough to reload in the middle. */
const TOKEN_DELAY_MS = 40;
const LONG_REPLY = Array.from({ length: 40 }, (_, index) => `Step ${index + 1} of the pump check.`).join(' ');

let stack: E2eStack | undefined;
let browser: Browser | undefined;
const openPages: BrowserPage[] = [];

beforeAll(async () => {
  mkdirSync(LIVE_DIR, { recursive: true });
  for (const name of readdirSync(LIVE_DIR)) if (name.endsWith('.png') || name.endsWith('.log')) rmSync(join(LIVE_DIR, name));
  const [stackResult, browserResult] = await Promise.allSettled([startE2eStack({ apiLogFile: join(LIVE_DIR, 'api.log') }), launchChromium()]);
  if (stackResult.status === 'fulfilled') stack = stackResult.value;
  if (browserResult.status === 'fulfilled') browser = browserResult.value;
  if (stackResult.status === 'rejected') throw stackResult.reason;
  if (browserResult.status === 'rejected') throw browserResult.reason;
  running().stack.llm.configure({ reply: LONG_REPLY, tokenDelayMs: TOKEN_DELAY_MS });
});

afterAll(async () => {
  await Promise.allSettled(openPages.map((open) => open.close()));
  await browser?.close().catch(() => undefined);
  if (stack !== undefined) {
    writeFileSync(join(LIVE_DIR, 'nginx-error.log'), stack.nginx.errorLog());
    await stack.stop();
  }
});

function running(): { stack: E2eStack; browser: Browser } {
  if (stack === undefined || browser === undefined) throw new Error('the browser or the stack did not start');
  return { stack, browser };
}

async function newPage(): Promise<BrowserPage> {
  const open = await openPage(running().browser, { viewport: { width: 1100, height: 760 } });
  openPages.push(open);
  return open;
}

/** Signs in (each tab has its own sign-in, kept in its session storage) and opens the chat. */
async function signInAt(page: Page, chatId: string, username: string): Promise<void> {
  await page.goto(`${running().stack.url}/login`);
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(FIXTURE_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Chats' }).getByRole('button', { name: 'New chat', exact: true }).waitFor();
  await page.goto(`${running().stack.url}/c/${encodeURIComponent(chatId)}`);
  await page.getByRole('textbox', { name: 'Message' }).waitFor();
}

const replies = (page: Page) => page.getByRole('article', { name: 'Simorgh Chat replied' });
const headingOf = (page: Page) => page.getByRole('main').getByRole('heading', { level: 1 });

/** The text of the newest reply while it is still being written (aria-busy), once it has some. */
async function partialReply(page: Page): Promise<string> {
  const handle = await page.waitForFunction(
    () => {
      const all = document.querySelectorAll('article[aria-label="Simorgh Chat replied"]');
      const reply = all[all.length - 1];
      const text = reply?.textContent ?? '';
      return reply?.getAttribute('aria-busy') === 'true' && text !== '' ? text : null;
    },
    undefined,
    { polling: 'raf', timeout: 15_000 },
  );
  return (await handle.jsonValue()) ?? '';
}

/** Waits until the newest reply is final (no longer busy) and returns its text. */
async function finishedReply(page: Page, timeoutMs = 30_000): Promise<string> {
  const handle = await page.waitForFunction(
    () => {
      const all = document.querySelectorAll('article[aria-label="Simorgh Chat replied"]');
      const reply = all[all.length - 1];
      return reply !== undefined && reply.getAttribute('aria-busy') === null ? (reply.textContent ?? '') : null;
    },
    undefined,
    { polling: 100, timeout: timeoutMs },
  );
  return (await handle.jsonValue()) ?? '';
}

/** The chat's messages as the API has them now. */
async function savedMessages(token: string, chatId: string): Promise<Message[]> {
  const response = await fetch(`${running().stack.url}${routeUrl(routes.listMessages, { id: chatId })}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  return routes.listMessages.responses[200].parse(await response.json()).messages;
}

async function tokenOf(username: string): Promise<string> {
  const response = await fetch(`${running().stack.url}${routes.login.path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password: FIXTURE_PASSWORD }),
  });
  return routes.login.responses[200].parse(await response.json()).access_token;
}

describe('live replies in Chromium, through nginx', () => {
  it('continues a reply after a reload in the middle of it, ending with exactly the model text', async () => {
    const api = await apiSession(running().stack.url, USERS.arash.username, FIXTURE_PASSWORD);
    const chat = await api.createChat({ chat_type: 'general' });
    const tab = await newPage();
    const { page } = tab;
    await signInAt(page, chat.chat_id, USERS.arash.username);

    await page.getByRole('textbox', { name: 'Message' }).fill('Walk me through the pump check');
    await page.keyboard.press('Enter');
    const before = await partialReply(page);
    expect(LONG_REPLY.startsWith(before.trim())).toBe(true);

    await page.reload();
    // Re-attached: the reply is on screen part-written and still being written.
    const afterReload = await partialReply(page);
    expect(LONG_REPLY.startsWith(afterReload.trim())).toBe(true);
    expect(afterReload.length).toBeLessThan(LONG_REPLY.length);
    await page.getByRole('button', { name: 'Stop' }).waitFor();
    await tab.screenshot('live/01-reloaded-mid-reply');

    const text = await finishedReply(page);
    expect(text.trim()).toBe(LONG_REPLY);
    expect(text.length).toBeGreaterThan(afterReload.length);
    await page.getByRole('button', { name: 'Regenerate' }).waitFor();
    expect(await page.getByText('Reconnecting…').count()).toBe(0);
    expect(await replies(page).count()).toBe(1);
    await tab.screenshot('live/02-reply-complete-after-reload');

    const saved = await savedMessages(await tokenOf(USERS.arash.username), chat.chat_id);
    expect(saved.map((message) => [message.role, message.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'complete'],
    ]);
    expect(saved[1]?.content).toBe(LONG_REPLY);
    expect(tab.problems).toEqual([]);
  });

  it("shows a second tab the first tab's message, the live reply, the title and a rename, lets it stop a reply, and lists a chat the first tab started", async () => {
    const api = await apiSession(running().stack.url, USERS.sara.username, FIXTURE_PASSWORD);
    const chat = await api.createChat({ chat_type: 'general' });
    const tabA = await newPage();
    const tabB = await openTab(tabA);
    openPages.push(tabB);
    const [a, b] = [tabA.page, tabB.page];
    await signInAt(a, chat.chat_id, USERS.sara.username);
    await signInAt(b, chat.chat_id, USERS.sara.username);

    await a.getByRole('textbox', { name: 'Message' }).fill('Which checks come first?');
    await a.keyboard.press('Enter');
    await b.getByRole('article', { name: 'You said' }).filter({ hasText: 'Which checks come first?' }).waitFor();
    const liveInB = await partialReply(b);
    expect(LONG_REPLY.startsWith(liveInB.trim())).toBe(true);
    await b.getByRole('button', { name: 'Stop' }).waitFor();
    await tabB.screenshot('live/03-second-tab-live-reply');

    const [textA, textB] = await Promise.all([finishedReply(a), finishedReply(b)]);
    expect(textA.trim()).toBe(LONG_REPLY);
    expect(textB.trim()).toBe(LONG_REPLY);
    await waitUntil('the second tab shows the title', async () => (await headingOf(b).textContent()) === MODEL_TITLE, 15_000);

    // Renamed in the first tab's sidebar: the second tab's header and sidebar follow.
    const sidebarA = a.getByRole('navigation', { name: 'Chats' });
    await sidebarA.getByRole('button', { name: `Options for ${MODEL_TITLE}` }).first().click();
    await sidebarA.getByRole('menuitem', { name: 'Rename' }).click();
    await sidebarA.getByRole('textbox', { name: 'Chat name' }).fill('Pump check order');
    await a.keyboard.press('Enter');
    await waitUntil('the second tab shows the new name', async () => (await headingOf(b).textContent()) === 'Pump check order');
    await b
      .getByRole('navigation', { name: 'Chats' })
      .locator(`a[href="/c/${encodeURIComponent(chat.chat_id)}"]`)
      .filter({ hasText: 'Pump check order' })
      .waitFor();
    await tabB.screenshot('live/04-second-tab-renamed');

    // A reply the first tab asked for, stopped from the second.
    await a.getByRole('textbox', { name: 'Message' }).fill('And after that?');
    await a.keyboard.press('Enter');
    await b.getByRole('article', { name: 'You said' }).filter({ hasText: 'And after that?' }).waitFor();
    await partialReply(b);
    await b.getByRole('button', { name: 'Stop' }).click();
    for (const page of [a, b]) {
      await replies(page).nth(1).getByText('Stopped', { exact: true }).waitFor();
      await page.getByRole('button', { name: 'Send' }).waitFor();
    }
    const stoppedA = await finishedReply(a);
    const stoppedB = await finishedReply(b);
    expect(stoppedB).toBe(stoppedA);
    expect(stoppedA.replace(/Stopped$/, '').trim().length).toBeLessThan(LONG_REPLY.length);
    await tabB.screenshot('live/05-second-tab-stopped-it');

    // A chat started in the first tab appears in the second tab's sidebar, no reload.
    await sidebarA.getByRole('button', { name: 'New chat', exact: true }).click();
    await a.waitForURL((url) => url.pathname !== `/c/${encodeURIComponent(chat.chat_id)}` && url.pathname.startsWith('/c/G-'));
    const newChatPath = new URL(a.url()).pathname;
    await b.getByRole('navigation', { name: 'Chats' }).locator(`a[href="${newChatPath}"]`).waitFor();
    await tabB.screenshot('live/05b-second-tab-lists-new-chat');

    const saved = await savedMessages(await tokenOf(USERS.sara.username), chat.chat_id);
    expect(saved.map((message) => message.status)).toEqual(['complete', 'complete', 'complete', 'stopped']);
    expect(`${saved[3]?.content.trim()}Stopped`).toBe(stoppedA.trim());
    expect([...tabA.problems, ...tabB.problems]).toEqual([]);
  });

  it('says "Reconnecting…" while the network is away and, back online, shows the reply written meanwhile', async () => {
    const api = await apiSession(running().stack.url, USERS.reza.username, FIXTURE_PASSWORD);
    const chat = await api.createChat({ chat_type: 'general' });
    const tab = await newPage();
    const { page } = tab;
    await signInAt(page, chat.chat_id, USERS.reza.username);

    await page.context().setOffline(true);
    await page.getByText('Reconnecting…').waitFor({ timeout: 45_000 });
    await tab.screenshot('live/06-offline-reconnecting');
    // Meanwhile the chat goes on elsewhere: a message and its whole reply, titled.
    await api.sendMessage(chat.chat_id, 'Sent while the tab was offline', MODEL_TITLE);

    await page.context().setOffline(false);
    await page.getByRole('article', { name: 'You said' }).filter({ hasText: 'Sent while the tab was offline' }).waitFor();
    expect((await finishedReply(page)).trim()).toBe(LONG_REPLY);
    await waitUntil('the header shows the title', async () => (await headingOf(page).textContent()) === MODEL_TITLE);
    await waitUntil('the note is gone', async () => (await page.getByText('Reconnecting…').count()) === 0);
    await tab.screenshot('live/07-back-online');
    // The browser logs the requests refused while offline; nothing else may fail.
    expect(tab.problems.filter((problem) => !problem.includes('net::ERR_INTERNET_DISCONNECTED'))).toEqual([]);
  });
});
