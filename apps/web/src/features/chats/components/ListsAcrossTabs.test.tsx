import { screen, waitFor, within } from '@testing-library/react';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { installFakeApi } from '../../../test/fake-api';
import { makeChat } from '../../../test/factories';
import { renderApp } from '../../../test/render-app';
import { CHANNEL_NAME } from '../lists-across-tabs';

/** Another tab of the same browser: its own channel object, as a second tab would have. */
const otherTab = new BroadcastChannel(CHANNEL_NAME);
const heard: unknown[] = [];
otherTab.onmessage = (event: MessageEvent) => heard.push(event.data);

afterEach(() => {
  heard.length = 0;
});
afterAll(() => otherTab.close());

function sidebar() {
  return within(screen.getByRole('navigation', { name: 'Chats' }));
}

describe('chat lists across tabs', () => {
  it('refetches the lists when another tab says they changed', async () => {
    const api = installFakeApi({ chats: [makeChat({ chat_name: 'Boiler feed pumps' })] });
    renderApp('/');
    await sidebar().findByRole('link', { name: 'Boiler feed pumps' });
    const listsBefore = api.calls('GET', '/api/chats').length;

    // The other tab created a chat and renamed this one.
    api.state.chats = [
      makeChat({ chat_id: 'G-202611-000200', chat_name: 'Made in the other tab' }),
      { ...api.state.chats[0]!, chat_name: 'Boiler feed pumps, revised' },
    ];
    otherTab.postMessage('changed');

    expect(await sidebar().findByRole('link', { name: 'Made in the other tab' })).toBeInTheDocument();
    expect(sidebar().getByRole('link', { name: 'Boiler feed pumps, revised' })).toBeInTheDocument();
    expect(api.calls('GET', '/api/chats').length).toBeGreaterThan(listsBefore);
  });

  it('tells the other tabs when a change here succeeds, and stays quiet when it fails', async () => {
    const api = installFakeApi({ chats: [makeChat({ chat_name: 'Flange ratings' })] });
    const { user } = renderApp('/');
    await user.click(await sidebar().findByRole('button', { name: 'Options for Flange ratings' }));
    await user.click(screen.getByRole('menuitem', { name: 'Pin' }));
    await sidebar().findByRole('heading', { name: 'Pinned' });
    await waitFor(() => expect(heard).toEqual(['changed']));

    heard.length = 0;
    api.state.chats = [];
    await user.click(sidebar().getByRole('button', { name: 'Options for Flange ratings' }));
    await user.click(screen.getByRole('menuitem', { name: 'Unpin' }));
    expect(await screen.findByText(/Couldn't change the pin/)).toBeInTheDocument();
    expect(heard).toEqual([]);
  });
});
