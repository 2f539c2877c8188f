import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatMessageId, monthKey, PLACEHOLDER_TITLE } from '@simorgh/contracts';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_PASSWORD, PROJECTS, UNKNOWN_PROJECT, USERS } from '@simorgh/devstack/fixtures';
import { apiSession, type ApiSession } from './api-setup.js';
import { ARTIFACTS_DIR, launchChromium, openPage, prepareArtifactsDir, waitUntil, type BrowserPage } from './browser.js';
import { MODEL_TITLE, startE2eStack, type E2eStack } from './e2e-stack.js';

const FIRST_MESSAGE = 'Cooling tower fan vibration limits?';
const EXPECTED_TITLE = MODEL_TITLE;
const PAGE_NAME = 'Flare header sizing';
const PROJECT_CHAT_PATTERN = new RegExp(`/c/P-${PROJECTS.refinery.id}-\\d{6}$`);

let stack: E2eStack | undefined;
let browser: Browser | undefined;
const openPages: BrowserPage[] = [];

beforeAll(async () => {
  prepareArtifactsDir();
  const [stackResult, browserResult] = await Promise.allSettled([
    startE2eStack({ apiLogFile: join(ARTIFACTS_DIR, 'api.log') }),
    launchChromium(),
  ]);
  if (stackResult.status === 'fulfilled') stack = stackResult.value;
  if (browserResult.status === 'fulfilled') browser = browserResult.value;
  if (stackResult.status === 'rejected') throw stackResult.reason;
  if (browserResult.status === 'rejected') throw browserResult.reason;
});

afterAll(async () => {
  await Promise.allSettled(openPages.map((open) => open.close()));
  await browser?.close().catch(() => undefined);
  if (stack !== undefined) {
    writeFileSync(join(ARTIFACTS_DIR, 'nginx-error.log'), stack.nginx.errorLog());
    await stack.stop();
  }
});

async function newPage(options?: Parameters<typeof openPage>[1]): Promise<BrowserPage> {
  if (browser === undefined || stack === undefined) throw new Error('the browser or the stack did not start');
  const open = await openPage(browser, options);
  openPages.push(open);
  return open;
}

function appUrl(path: string): string {
  if (stack === undefined) throw new Error('the stack did not start');
  return `${stack.url}${path}`;
}

const sidebarOf = (page: Page) => page.getByRole('navigation', { name: 'Chats' });
/** One chat's entry in the sidebar; every journey's user may have other chats of the same title. */
const chatLinkOf = (page: Page, chatId: string) => sidebarOf(page).locator(`a[href="/c/${encodeURIComponent(chatId)}"]`);
const headingOf = (page: Page) => page.getByRole('main').getByRole('heading', { level: 1 });
const replies = (page: Page) => page.getByRole('article', { name: 'Simorgh Chat replied' });

async function signIn(page: Page, username: string): Promise<void> {
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(FIXTURE_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await sidebarOf(page).getByRole('button', { name: 'New chat', exact: true }).waitFor();
}

/** Signs `username` in through the API, to set up what a journey needs before its browser steps. */
function apiSessionOf(username: string): Promise<ApiSession> {
  if (stack === undefined) throw new Error('the stack did not start');
  return apiSession(stack.url, username, FIXTURE_PASSWORD);
}

/** A user's general chat with one question answered and titled, and a project chat. */
async function seedChats(username: string, { question, pageName }: { question: string; pageName: string }) {
  const api = await apiSessionOf(username);
  const general = await api.createChat({ chat_type: 'general' });
  await api.sendMessage(general.chat_id, question, EXPECTED_TITLE);
  const project = await api.createChat({ chat_type: 'project', project_number: String(PROJECTS.refinery.id), page_name: pageName });
  return { generalChatId: general.chat_id, projectChatId: project.chat_id };
}

/**
 * Appends `count` messages to a chat straight into Redis (the chat DB, 1), numbered from 1: a
 * conversation longer than a page, which the API would take minutes and its limits to build.
 */
function seedLongChat(chatId: string, count: number): void {
  if (stack === undefined) throw new Error('the stack did not start');
  const messages = Array.from({ length: count }, (_, index) =>
    JSON.stringify({
      message_id: formatMessageId(chatId, index + 1),
      role: index % 2 === 0 ? 'user' : 'assistant',
      content: `Long chat message ${index + 1}`,
      created_at: new Date(Date.UTC(2026, 0, 1, 0, index)).toISOString(),
      status: 'complete',
    }),
  );
  const cli = (...args: string[]) => execFileSync('redis-cli', ['-u', `${stack?.redisUrl}/1`, ...args], { stdio: 'pipe' });
  cli('RPUSH', `chat:${chatId}:messages`, ...messages);
  cli('SET', `chat:${chatId}:message_seq`, String(count));
}

async function isFocused(page: Page, label: string): Promise<boolean> {
  return page.getByLabel(label, { exact: true }).evaluate((element) => element === document.activeElement);
}

describe('Simorgh Chat in Chromium, served by nginx', () => {
  it('signs in, starts a chat at once, streams the reply, retitles it live and keeps it across a reload', async () => {
    const { page, problems, screenshot } = await newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(appUrl('/'));
    await page.waitForURL('**/login');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await screenshot('01-sign-in');

    await page.getByLabel('Username', { exact: true }).fill(USERS.arash.username);
    await page.getByLabel('Password', { exact: true }).fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Invalid username or password' }).waitFor();

    await signIn(page, USERS.arash.username);
    await page.getByRole('heading', { name: 'Start a conversation' }).waitFor();
    await screenshot('02-signed-in');

    const sidebar = sidebarOf(page);
    const monthBefore = monthKey(new Date());
    await sidebar.getByRole('button', { name: 'New chat', exact: true }).click();
    await sidebar.getByText(PLACEHOLDER_TITLE, { exact: true }).waitFor();
    await page.waitForURL(/\/c\/G-\d{6}-\d{6}$/);
    const chatId = decodeURIComponent(new URL(page.url()).pathname.slice('/c/'.length));
    expect([monthBefore, monthKey(new Date())]).toContain(chatId.slice(2, 8));
    await waitUntil('the message box has focus', () => isFocused(page, 'Message'));
    await waitUntil('the header shows the placeholder title', async () => (await headingOf(page).textContent()) === PLACEHOLDER_TITLE);
    await page.getByRole('main').getByText(chatId, { exact: true }).waitFor();

    // Marks this document: if the page reloaded, the marker would be gone.
    await page.evaluate(() => Object.assign(window, { e2eSameDocument: true }));
    await page.keyboard.type(FIRST_MESSAGE);
    await page.keyboard.press('Enter');
    await page.getByRole('article', { name: 'You said' }).filter({ hasText: FIRST_MESSAGE }).waitFor();

    // A snapshot taken mid-stream, in one go: part of the reply is there, the title is not yet.
    const midStream = await (
      await page.waitForFunction(
        () => {
          const reply = document.querySelector('article[aria-label="Simorgh Chat replied"]');
          const text = reply?.textContent ?? '';
          if (reply?.getAttribute('aria-busy') !== 'true' || text === '') return null;
          return { length: text.length, heading: document.querySelector('main h1')?.textContent ?? '' };
        },
        undefined,
        { polling: 'raf', timeout: 10_000 },
      )
    ).jsonValue();
    expect(midStream?.heading).toBe(PLACEHOLDER_TITLE);
    await screenshot('03-reply-streaming');

    const reply = replies(page).first();
    await reply.filter({ hasText: 'Messages from you in this conversation: 1' }).waitFor();
    const replyText = (await reply.textContent()) ?? '';
    expect(replyText).toContain(`You asked: ${FIRST_MESSAGE}`);
    expect(replyText).toContain('local demo model');
    expect(replyText.length).toBeGreaterThan(midStream?.length ?? Infinity);

    // The title arrives after the reply, on the same stream, without any reload.
    await waitUntil('the header shows the generated title', async () => (await headingOf(page).textContent()) === EXPECTED_TITLE);
    await waitUntil('the sidebar shows the generated title', async () => (await chatLinkOf(page, chatId).textContent()) === EXPECTED_TITLE);
    expect(await sidebar.getByText(PLACEHOLDER_TITLE, { exact: true }).count()).toBe(0);
    expect(await page.evaluate(() => 'e2eSameDocument' in window)).toBe(true);
    await page.getByRole('button', { name: 'Regenerate' }).waitFor();
    await screenshot('04-reply-and-live-title');

    await page.reload();
    await page.getByRole('article', { name: 'You said' }).filter({ hasText: FIRST_MESSAGE }).waitFor();
    await replies(page).filter({ hasText: 'Messages from you in this conversation: 1' }).waitFor();
    expect(decodeURIComponent(new URL(page.url()).pathname)).toBe(`/c/${chatId}`);
    await waitUntil('the reloaded header shows the title', async () => (await headingOf(page).textContent()) === EXPECTED_TITLE);
    expect(await page.evaluate(() => 'e2eSameDocument' in window)).toBe(false);
    // The reply as markdown again once its code has loaded (until then it shows as plain text).
    await replies(page).first().locator('em').filter({ hasText: FIRST_MESSAGE }).waitFor();
    await screenshot('05-after-reload');
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot('05b-after-reload-dark-theme');

    expect(problems).toEqual([]);
  });

  it('checks a typed Project ID live (not found, access denied, found) and opens the new project chat', async () => {
    const { page, problems, screenshot } = await newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(appUrl('/login'));
    await signIn(page, USERS.arash.username);
    const sidebar = sidebarOf(page);

    await sidebar.getByRole('button', { name: 'New project chat' }).click();
    const dialog = page.getByRole('dialog', { name: 'New project chat' });
    await dialog.waitFor();
    const projectId = dialog.getByLabel('Project ID', { exact: true });
    const create = dialog.getByRole('button', { name: 'Create' });
    await waitUntil('the Project ID field has focus', () => isFocused(page, 'Project ID'));

    await projectId.fill('12a');
    await dialog.getByText('Project ID must contain digits only.').waitFor();

    await projectId.fill(String(UNKNOWN_PROJECT));
    await dialog.getByText(`Project ID ${UNKNOWN_PROJECT} not found in database`).waitFor();
    expect(await create.isDisabled()).toBe(true);
    await screenshot('06-project-not-found');

    await projectId.fill(String(PROJECTS.tankFarm.id));
    await dialog.getByText(`Access denied for project ${PROJECTS.tankFarm.id}`).waitFor();
    expect(await create.isDisabled()).toBe(true);
    await screenshot('07-project-access-denied');

    await projectId.fill(String(PROJECTS.refinery.id));
    await dialog.getByText(PROJECTS.refinery.name).waitFor();
    expect(await create.isDisabled()).toBe(true);
    await dialog.getByLabel('Page Name', { exact: true }).fill(PAGE_NAME);
    await screenshot('08-project-found');
    await create.click();

    await dialog.waitFor({ state: 'hidden' });
    await page.waitForURL(PROJECT_CHAT_PATTERN);
    const projectChatId = decodeURIComponent(new URL(page.url()).pathname.slice('/c/'.length));
    const main = page.getByRole('main');
    await main.getByText(projectChatId, { exact: true }).waitFor();
    await main.getByText(`${PROJECTS.refinery.name} · ${PAGE_NAME}`).waitFor();
    await chatLinkOf(page, projectChatId).filter({ hasText: PAGE_NAME }).waitFor();
    await waitUntil('the message box has focus', () => isFocused(page, 'Message'));
    await screenshot('09-project-chat-open');

    expect(problems).toEqual([]);
  });

  it("shows a second user none of the first user's chats, not even at their URLs", async () => {
    const question = 'Which gaskets suit the flare knock-out drum?';
    const pageName = 'Knock-out drum gaskets';
    const firstUser = await seedChats(USERS.arash.username, { question, pageName });
    const { page, problems, screenshot } = await newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(appUrl('/login'));
    await signIn(page, USERS.arash.username);
    const sidebar = sidebarOf(page);
    await chatLinkOf(page, firstUser.generalChatId).filter({ hasText: EXPECTED_TITLE }).waitFor();
    await chatLinkOf(page, firstUser.projectChatId).filter({ hasText: pageName }).waitFor();

    await sidebar.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await signIn(page, USERS.sara.username);
    await sidebar.getByText('No chats yet.').waitFor();
    await sidebar.getByText(USERS.sara.displayName).waitFor();
    expect(await sidebar.getByRole('link').count()).toBe(0);
    await screenshot('10-second-user-empty');

    // Sara may use the refinery project too: only ownership keeps the project chat from her.
    for (const chatId of [firstUser.generalChatId, firstUser.projectChatId]) {
      await page.goto(appUrl(`/c/${chatId}`));
      await page.getByRole('heading', { name: 'Chat not available' }).waitFor();
      expect(await page.getByText(question).count()).toBe(0);
      expect(await page.getByText(pageName).count()).toBe(0);
      expect(await page.getByText(EXPECTED_TITLE).count()).toBe(0);
    }
    await screenshot('11-second-user-not-found');
    await sidebar.getByText('No chats yet.').waitFor();

    expect(problems).toEqual([]);
  });

  it('works 375 px wide: the chat list opens as a drawer, and a chat can be read and continued', async () => {
    const pageName = 'Cooling water pump skid';
    const firstUser = await seedChats(USERS.arash.username, { question: FIRST_MESSAGE, pageName });
    const { page, problems, screenshot } = await newPage({
      viewport: { width: 375, height: 740 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    await page.goto(appUrl('/login'));
    await screenshot('12-mobile-sign-in');
    await page.getByLabel('Username', { exact: true }).fill(USERS.arash.username);
    await page.getByLabel('Password', { exact: true }).fill(FIXTURE_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Start a conversation' }).waitFor();

    const sidebar = sidebarOf(page);
    const toggle = page.getByRole('button', { name: 'Open chat list' });
    expect(await sidebar.getByRole('button', { name: 'New chat', exact: true }).isVisible()).toBe(false);
    await toggle.click();
    const general = chatLinkOf(page, firstUser.generalChatId).filter({ hasText: EXPECTED_TITLE });
    await general.waitFor();
    await chatLinkOf(page, firstUser.projectChatId).filter({ hasText: pageName }).waitFor();
    await screenshot('13-mobile-drawer');

    await general.click();
    await page.waitForURL(`**/c/${firstUser.generalChatId}`);
    await sidebar.waitFor({ state: 'hidden' });
    await replies(page).filter({ hasText: 'Messages from you in this conversation: 1' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);

    await page.getByLabel('Message', { exact: true }).fill('And the alarm threshold?');
    await page.getByRole('button', { name: 'Send' }).click();
    await replies(page).filter({ hasText: 'Messages from you in this conversation: 2' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await screenshot('14-mobile-chat');

    expect(problems).toEqual([]);
  });

  it('shows an admin the usage page (chart and top tables, loaded only when opened) and other users "not available"', async () => {
    const arash = await seedChats(USERS.arash.username, { question: 'How is pump NPSH margin checked?', pageName: 'NPSH margins' });
    await seedChats(USERS.sara.username, { question: 'Which insulation for a hot oil line?', pageName: 'Hot oil insulation' });
    await (await apiSessionOf(USERS.arash.username)).sendMessage(arash.projectChatId, 'What NPSH margin does API 610 ask for?', 'NPSH margins');
    const admin = await apiSessionOf(USERS.admin.username);
    const today = new Date().toISOString().slice(0, 10);
    // The report reads PostgreSQL: wait until the mirror has written both users' replies.
    await waitUntil('both replies are in the usage report', async () => {
      const rows = await admin.usage({ from: today, to: today, group_by: 'user' });
      const projects = await admin.usage({ from: today, to: today, group_by: 'project' });
      return (
        [USERS.arash.username, USERS.sara.username].every((user) => rows.some((row) => row.key === user && row.prompt_tokens > 0)) &&
        projects.some((row) => row.key === String(PROJECTS.refinery.id))
      );
    });

    const { page, problems, screenshot } = await newPage({ viewport: { width: 1280, height: 900 } });
    const scripts: string[] = [];
    page.on('request', (request) => {
      if (request.resourceType() === 'script') scripts.push(new URL(request.url()).pathname);
    });
    await page.goto(appUrl('/login'));
    await signIn(page, USERS.admin.username);
    const usageLink = sidebarOf(page).getByRole('link', { name: 'Usage' });
    await usageLink.waitFor();
    expect(scripts.some((path) => path.includes('AdminPage'))).toBe(false);

    await usageLink.click();
    await page.getByRole('heading', { level: 1, name: 'Usage' }).waitFor();
    expect(scripts.some((path) => path.includes('AdminPage'))).toBe(true);
    expect(await page.getByLabel('To', { exact: true }).inputValue()).toBe(today);
    const users = page.getByRole('table', { name: 'Top users' });
    await users.getByRole('rowheader', { name: USERS.arash.username }).waitFor();
    await users.getByRole('rowheader', { name: USERS.sara.username }).waitFor();
    await page.getByRole('table', { name: 'Top projects' }).getByRole('rowheader', { name: String(PROJECTS.refinery.id) }).waitFor();
    // uPlot drew the days on a canvas, with its legend naming the series.
    const chart = page.getByRole('img', { name: /Replies and tokens per day/ });
    await chart.locator('canvas').waitFor();
    expect((await chart.boundingBox())?.height).toBeGreaterThan(200);
    await page.getByText('Completion tokens', { exact: true }).first().waitFor();
    await screenshot('16-admin-usage');

    // Another user: no link, and the page says it is not for them.
    const other = await newPage({ viewport: { width: 1280, height: 800 } });
    await other.page.goto(appUrl('/login'));
    await signIn(other.page, USERS.arash.username);
    await chatLinkOf(other.page, arash.generalChatId).waitFor();
    expect(await sidebarOf(other.page).getByRole('link', { name: 'Usage' }).count()).toBe(0);
    await other.page.goto(appUrl('/admin'));
    await other.page.getByRole('heading', { level: 1, name: 'Not available' }).waitFor();
    await other.screenshot('17-admin-not-available');

    expect(problems).toEqual([]);
    expect(other.problems).toEqual([]);
  });

  it('loads earlier messages of a long chat as the user scrolls up, keeping what they read in place', async () => {
    const api = await apiSessionOf(USERS.sara.username);
    const chat = await api.createChat({ chat_type: 'general' });
    seedLongChat(chat.chat_id, 150);
    const { page, problems, screenshot } = await newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(appUrl('/login'));
    await signIn(page, USERS.sara.username);
    await page.goto(appUrl(`/c/${chat.chat_id}`));
    const conversation = page.getByRole('region', { name: 'Conversation' });
    const message = (n: number) => conversation.getByRole('article').filter({ hasText: new RegExp(`^Long chat message ${n}$`) });
    await message(150).waitFor();
    // The newest page only, opened at its end.
    expect(await conversation.getByRole('article').count()).toBe(100);
    expect(await message(150).isVisible()).toBe(true);

    // Up to the top: the page before loads, and the message that was at the top stays there.
    const scroller = page.locator('.chat-scroll');
    /** Where message n is, from the top of the scrolling area (negative: scrolled past). */
    const offsetOf = (n: number) =>
      scroller.evaluate((element, text) => {
        const article = Array.from(element.querySelectorAll('article')).find((item) => item.textContent === text);
        if (article === undefined) throw new Error(`${text} is not on the page`);
        return article.getBoundingClientRect().top - element.getBoundingClientRect().top;
      }, `Long chat message ${n}`);
    // Scrolled and measured in one step, before the earlier page can arrive.
    const before = await scroller.evaluate((element) => {
      element.scrollTop = 0;
      const article = Array.from(element.querySelectorAll('article')).find((item) => item.textContent === 'Long chat message 51');
      return (article?.getBoundingClientRect().top ?? Number.NaN) - element.getBoundingClientRect().top;
    });
    await message(1).waitFor({ state: 'attached' });
    await page.getByRole('status').filter({ hasText: 'Loading earlier messages' }).waitFor({ state: 'detached' });
    expect(await conversation.getByRole('article').count()).toBe(150);
    expect(Math.abs((await offsetOf(51)) - before)).toBeLessThan(2);
    expect(await offsetOf(1)).toBeLessThan(0);
    await screenshot('15-earlier-messages');

    // The very start: nothing more to load.
    await scroller.evaluate((element) => {
      element.scrollTop = 0;
    });
    expect(await offsetOf(1)).toBeGreaterThanOrEqual(0);
    expect(await page.getByRole('button', { name: 'Show earlier messages' }).count()).toBe(0);
    expect(problems).toEqual([]);
  });
});

describe('Simorgh Chat in Chromium, served by nginx', () => {
  it('finds a chat by words of an earlier message with Ctrl+K, marks them, and opens the chat at that message', async () => {
    const api = await apiSessionOf(USERS.arash.username);
    const chat = await api.createChat({ chat_type: 'general' });
    await api.sendMessage(chat.chat_id, 'Deaerator pressure for the boiler feed water?', EXPECTED_TITLE);
    for (const n of [1, 2, 3, 4, 5]) await api.sendMessage(chat.chat_id, `Follow-up question ${n} on the pump curves`, EXPECTED_TITLE);
    const { page, problems, screenshot } = await newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(appUrl('/login'));
    await signIn(page, USERS.arash.username);
    await expect(sidebarOf(page).getByRole('searchbox', { name: 'Search chats' }).isVisible()).resolves.toBe(true);

    await page.keyboard.press('Control+k');
    const dialog = page.getByRole('dialog', { name: 'Search chats' });
    // The last word is still being typed: it matches as a prefix.
    await dialog.getByRole('combobox', { name: 'Search chats' }).pressSequentially('deaerator boil');
    const mine = dialog.getByRole('option').filter({ hasText: /^You/ });
    await mine.waitFor();
    expect(await mine.locator('mark').allTextContents()).toEqual(['Deaerator', 'boiler']);
    expect(await dialog.getByRole('group', { name: EXPECTED_TITLE }).count()).toBeGreaterThan(0);
    await screenshot('16-search-results');

    // Down to that result with the keyboard, then Enter.
    const options = await dialog.getByRole('option').allTextContents();
    const index = options.findIndex((text) => text.startsWith('You') && text.includes('Deaerator'));
    for (let step = 0; step < index; step += 1) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForURL(appUrl(`/c/${chat.chat_id}`));
    const target = page.getByRole('article', { name: 'You said' }).filter({ hasText: 'Deaerator pressure for the boiler feed water?' });
    await waitUntil('the message is marked', () => target.evaluate((element) => element.classList.contains('message-found')), 5000);
    // Scrolled to it: the first message of a chat that opens at its end is in view.
    const inView = await target.evaluate((element) => {
      const box = element.getBoundingClientRect();
      const scroller = element.closest('.chat-scroll')?.getBoundingClientRect();
      return scroller !== undefined && box.top >= scroller.top && box.bottom <= scroller.bottom;
    });
    expect(inView).toBe(true);
    await replies(page).first().locator('strong').filter({ hasText: 'local demo model' }).waitFor();
    await screenshot('17-search-opened-at-message');
    expect(problems).toEqual([]);
  });
});

describe('Simorgh Chat in Chromium, served by nginx: sharing between two people', () => {
  it('shares a project chat with a colleague by name, who finds it, reads who wrote what and writes in it, until the owner takes it back', async () => {
    const owner = USERS.arash;
    const colleague = USERS.reza;
    const question = 'Relief load for the flare header?';
    const api = await apiSessionOf(owner.username);
    const chat = await api.createChat({ chat_type: 'project', project_number: String(PROJECTS.refinery.id), page_name: 'Flare relief loads' });
    // A project chat keeps its page name as its title.
    await api.sendMessage(chat.chat_id, question, chat.chat_name);
    const chatLink = (page: Page) => chatLinkOf(page, chat.chat_id);
    const sharedSection = (page: Page) => sidebarOf(page).getByRole('region', { name: 'Shared with me' });

    // The owner shares it from the chat header, picking the colleague by the start of his name.
    const first = await newPage({ viewport: { width: 1280, height: 800 } });
    await first.page.goto(appUrl('/login'));
    await signIn(first.page, owner.username);
    await first.page.goto(appUrl(`/c/${chat.chat_id}`));
    await headingOf(first.page).filter({ hasText: chat.chat_name }).waitFor();
    await first.page.getByRole('button', { name: 'Share', exact: true }).click();
    const dialog = first.page.getByRole('dialog', { name: 'Share chat' });
    await dialog.getByRole('checkbox', { name: `Everyone on ${PROJECTS.refinery.name}` }).waitFor();
    await waitUntil('the people field has focus', () => isFocused(first.page, 'Add people'));
    await first.page.keyboard.type('Reza');
    await dialog.getByRole('option', { name: new RegExp(colleague.displayName) }).waitFor();
    await first.screenshot('30-share-people-picker');
    await first.page.keyboard.press('Enter');
    const chips = dialog.getByRole('list', { name: 'People with access' });
    await chips.getByText(`${colleague.displayName} (${colleague.username})`).waitFor();
    await dialog.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    expect(await dialog.getByText('You and 1 person you added can open this chat').count()).toBe(1);
    await first.screenshot('31-share-dialog-saved');
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await first.page.getByRole('main').getByText('Shared', { exact: true }).waitFor();

    // The colleague, in a browser profile of his own, finds it under "Shared with me".
    const second = await newPage({ viewport: { width: 1280, height: 800 } });
    await second.page.goto(appUrl('/login'));
    await signIn(second.page, colleague.username);
    await chatLink(second.page).waitFor();
    expect(await sharedSection(second.page).locator(`a[href="/c/${chat.chat_id}"]`).count()).toBe(1);
    expect(await sharedSection(second.page).getByRole('button', { name: /^Options for/ }).count()).toBe(0);
    await second.screenshot('32-colleague-shared-with-me');
    await chatLink(second.page).click();
    await second.page.waitForURL(`**/c/${chat.chat_id}`);
    await second.page.getByRole('article', { name: `${owner.displayName} said` }).filter({ hasText: question }).waitFor();
    await replies(second.page).first().waitFor();
    // Only the owner may share, regenerate, rename, pin, archive or delete.
    expect(await second.page.getByRole('button', { name: 'Share', exact: true }).count()).toBe(0);
    expect(await second.page.getByRole('button', { name: 'Regenerate' }).count()).toBe(0);
    expect(await sidebarOf(second.page).getByRole('button', { name: /^Options for/ }).count()).toBe(0);

    await second.page.getByLabel('Message', { exact: true }).fill('And with the blocked outlet case?');
    await second.page.getByRole('button', { name: 'Send' }).click();
    const colleaguesMessage = second.page.getByRole('article', { name: 'You said' }).filter({ hasText: 'And with the blocked outlet case?' });
    await colleaguesMessage.getByText(colleague.displayName).waitFor();
    // The model answers the colleague's message; the fake model counts the user turns it was sent.
    await replies(second.page).filter({ hasText: 'Messages from you in this conversation: 2' }).waitFor();
    await second.screenshot('33-colleague-wrote-in-shared-chat');

    // The owner sees the colleague's message under his name.
    await first.page.reload();
    await first.page
      .getByRole('article', { name: `${colleague.displayName} said` })
      .filter({ hasText: 'And with the blocked outlet case?' })
      .waitFor();
    await first.page.getByRole('article', { name: 'You said' }).filter({ hasText: question }).getByText(owner.displayName).waitFor();
    await first.screenshot('34-owner-sees-colleague-by-name');

    // The owner takes the chat back: the colleague's list no longer has it at the next refresh,
    // and the chat he had open says it is not available.
    // Reopened, the dialog names the people already on the list, not just their IDs.
    await first.page.getByRole('button', { name: 'Share', exact: true }).click();
    await dialog.getByRole('button', { name: `Remove ${colleague.displayName} (${colleague.username})` }).click();
    await dialog.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    await dialog.getByText('Only you can see this chat.').waitFor();
    await first.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });

    // The open chat follows its events: the sharing change reaches it, and it asks again whether
    // the colleague may still open it (404): the view turns "not available" without a reload.
    await second.page.getByRole('heading', { name: 'Chat not available' }).waitFor();
    await second.screenshot('35-colleague-chat-gone-live');
    await second.page.reload();
    await second.page.getByRole('heading', { name: 'Chat not available' }).waitFor();
    await sidebarOf(second.page).getByText('No chats yet.').waitFor();
    expect(await chatLink(second.page).count()).toBe(0);
    expect(await second.page.getByText(question).count()).toBe(0);
    await second.screenshot('36-colleague-chat-not-available-after-reload');

    expect(first.problems).toEqual([]);
    expect(second.problems).toEqual([]);
  });

  it('shares a project chat with everyone on the project: a member finds it and writes in it, and loses it when his TPMS permission is revoked', async () => {
    if (stack === undefined) throw new Error('the stack did not start');
    const owner = USERS.arash;
    const member = USERS.omid;
    const api = await apiSessionOf(owner.username);
    const chat = await api.createChat({ chat_type: 'project', project_number: String(PROJECTS.refinery.id), page_name: 'Compressor surge margins' });
    const chatLink = (page: Page) => chatLinkOf(page, chat.chat_id);

    const first = await newPage({ viewport: { width: 1280, height: 800 } });
    await first.page.goto(appUrl('/login'));
    await signIn(first.page, owner.username);
    await first.page.goto(appUrl(`/c/${chat.chat_id}`));
    await first.page.getByRole('button', { name: 'Share', exact: true }).click();
    const dialog = first.page.getByRole('dialog', { name: 'Share chat' });
    await dialog.getByRole('checkbox', { name: `Everyone on ${PROJECTS.refinery.name}` }).check();
    await dialog.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    await dialog.getByText(`everyone with access to ${PROJECTS.refinery.name} in TPMS`).waitFor();
    await first.screenshot('37-shared-with-the-project');
    await dialog.getByRole('button', { name: 'Done' }).click();

    // A project member nobody named finds it, writes in it and gets the reply.
    const second = await newPage({ viewport: { width: 1280, height: 800 } });
    await second.page.goto(appUrl('/login'));
    await signIn(second.page, member.username);
    await chatLink(second.page).click();
    await second.page.waitForURL(`**/c/${chat.chat_id}`);
    await second.page.getByLabel('Message', { exact: true }).fill('Which surge margin do we design to?');
    await second.page.getByRole('button', { name: 'Send' }).click();
    await replies(second.page).filter({ hasText: 'Messages from you in this conversation: 1' }).waitFor();
    expect(await second.page.getByRole('button', { name: 'Share', exact: true }).count()).toBe(0);

    // The owner sees the member's message under his name, live.
    await first.page.getByRole('article', { name: `${member.displayName} said` }).filter({ hasText: 'Which surge margin' }).waitFor();

    // TPMS revokes the member's permission and an admin drops the cached answer: the chat is gone for him.
    await stack.setPermission(PROJECTS.refinery.id, member.username, false);
    try {
      await (await apiSessionOf(USERS.admin.username)).invalidateTpmsCache({ user_id: member.username });
      await second.page.reload();
      await second.page.getByRole('heading', { name: 'Chat not available' }).waitFor();
      await sidebarOf(second.page).getByText('No chats yet.').waitFor();
      expect(await chatLink(second.page).count()).toBe(0);
      await second.screenshot('38-member-revoked-chat-not-available');
    } finally {
      await stack.setPermission(PROJECTS.refinery.id, member.username, true);
      await (await apiSessionOf(USERS.admin.username)).invalidateTpmsCache({ user_id: member.username });
    }

    expect(first.problems).toEqual([]);
    expect(second.problems).toEqual([]);
  });
});
