import { routes } from '@simorgh/contracts';
import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { installFakeApi } from '../../../test/fake-api';
import { makeChat } from '../../../test/factories';
import { renderApp } from '../../../test/render-app';
import { errorResponse } from '../../../test/route-handlers';

const PROJECTS: Record<string, string> = { '4711': 'Bandar Abbas Refinery', '5150': 'Asaluyeh Gas Plant' };

function setup() {
  const api = installFakeApi();
  api.on(routes.getProject, ({ params }) => {
    const n = params.project_number ?? '';
    if (n === '5150') return errorResponse(403, 'forbidden', `Access denied for project ${n}`);
    if (n === '8000') return errorResponse(503, 'upstream_unavailable', 'Project directory unavailable, try again shortly');
    const name = PROJECTS[n];
    return name === undefined
      ? errorResponse(404, 'not_found', `Project ID ${n} not found in database`)
      : { status: 200, body: { project_number: n, project_name: name } };
  });
  api.on(routes.createChat, ({ body }) => {
    const chat = makeChat({
      chat_id: 'P-4711-000007',
      chat_name: 'Valve sizing',
      chat_type: 'project',
      project_number: '4711',
      project_name: 'Bandar Abbas Refinery',
      page_name: 'Valve sizing',
    });
    expect(body).toEqual({ chat_type: 'project', project_number: '4711', page_name: 'Valve sizing' });
    api.state.chats.unshift(chat);
    return { status: 201, body: { status: 'success', chat, message: 'Chat created' } };
  });
  const app = renderApp('/');
  return { api, ...app };
}

async function openModal(app: ReturnType<typeof setup>) {
  const opener = await screen.findByRole('button', { name: 'New project chat' });
  await app.user.click(opener);
  const dialog = screen.getByRole('dialog', { name: 'New project chat' });
  return { opener, dialog, ui: within(dialog) };
}

const projectLookups = (app: ReturnType<typeof setup>) => app.api.calls('GET').filter((c) => c.path.startsWith('/api/projects/'));

describe('CreateProjectChatModal', () => {
  it('opens as a labelled dialog with focus in Project ID, and Create disabled', async () => {
    const app = setup();
    const { ui } = await openModal(app);
    expect(ui.getByLabelText('Project ID')).toHaveFocus();
    expect(ui.getByLabelText('Page Name')).toBeInTheDocument();
    expect(ui.getByRole('button', { name: 'Create' })).toBeDisabled();
  });

  it('checks the project once the user pauses typing and shows its name', async () => {
    const app = setup();
    const { ui } = await openModal(app);
    await app.user.type(ui.getByLabelText('Project ID'), '4711');

    expect(ui.getByText('Checking project…')).toBeInTheDocument();
    expect(await ui.findByText('✓ Bandar Abbas Refinery')).toBeInTheDocument();
    // Debounced: one request for the finished number, none for 4, 47 or 471.
    expect(projectLookups(app).map((c) => c.path)).toEqual(['/api/projects/4711']);
  });

  it('refuses non-digits without any request', async () => {
    const app = setup();
    const { ui } = await openModal(app);
    await app.user.type(ui.getByLabelText('Project ID'), '47a1');

    expect(ui.getByText('Project ID must contain digits only.')).toBeInTheDocument();
    expect(ui.getByLabelText('Project ID')).toHaveAttribute('aria-invalid', 'true');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(projectLookups(app)).toEqual([]);
    expect(ui.getByRole('button', { name: 'Create' })).toBeDisabled();
  });

  it("shows the API's not-found message", async () => {
    const app = setup();
    const { ui } = await openModal(app);
    await app.user.type(ui.getByLabelText('Project ID'), '999');
    expect(await ui.findByText('Project ID 999 not found in database')).toBeInTheDocument();
    await app.user.type(ui.getByLabelText('Page Name'), 'Anything');
    expect(ui.getByRole('button', { name: 'Create' })).toBeDisabled();
  });

  it("shows the API's access-denied message", async () => {
    const app = setup();
    const { ui } = await openModal(app);
    await app.user.type(ui.getByLabelText('Project ID'), '5150');
    expect(await ui.findByText('Access denied for project 5150')).toBeInTheDocument();
    expect(ui.getByLabelText('Project ID')).toHaveAttribute('aria-invalid', 'true');
  });

  it('says clearly when the project directory is unavailable', async () => {
    const app = setup();
    const { ui } = await openModal(app);
    await app.user.type(ui.getByLabelText('Project ID'), '8000');
    expect(await ui.findByText(/project directory is unavailable.*can't be checked right now/i)).toBeInTheDocument();
    expect(ui.getByRole('button', { name: 'Create' })).toBeDisabled();
  });

  it('enables Create only for a valid project with a page name, then opens the P- chat with its ID in the header', async () => {
    const app = setup();
    const { ui, dialog } = await openModal(app);
    await app.user.type(ui.getByLabelText('Project ID'), '4711');
    await ui.findByText('✓ Bandar Abbas Refinery');
    expect(ui.getByRole('button', { name: 'Create' })).toBeDisabled();

    await app.user.type(ui.getByLabelText('Page Name'), 'Valve sizing');
    expect(ui.getByRole('button', { name: 'Create' })).toBeEnabled();
    await app.user.click(ui.getByRole('button', { name: 'Create' }));

    await waitFor(() => expect(app.path()).toBe('/c/P-4711-000007'));
    expect(dialog).not.toBeInTheDocument();
    expect(screen.getByRole('heading', { level: 1, name: 'Valve sizing' })).toBeInTheDocument();
    expect(screen.getByText('P-4711-000007')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Copy session ID' })).toBeInTheDocument();
    // The chat view focuses its message box in an effect, after the modal's close gave focus back
    // to what opened it: awaited, as a commit and its effects may come apart on a busy machine.
    await waitFor(() => expect(screen.getByRole('textbox', { name: 'Message' })).toHaveFocus());
  });

  it.each([
    [403, 'forbidden', 'Access denied for project 4711'],
    [404, 'not_found', 'Project ID 4711 not found in database'],
  ] as const)('keeps the dialog open and shows a %i from the final create', async (status, code, detail) => {
    const app = setup();
    app.api.on(routes.createChat, () => errorResponse(status, code, detail));
    const { ui } = await openModal(app);
    await app.user.type(ui.getByLabelText('Project ID'), '4711');
    await ui.findByText('✓ Bandar Abbas Refinery');
    await app.user.type(ui.getByLabelText('Page Name'), 'Valve sizing');
    await app.user.click(ui.getByRole('button', { name: 'Create' }));

    expect(await ui.findByRole('alert')).toHaveTextContent(detail);
    expect(screen.getByRole('dialog', { name: 'New project chat' })).toBeInTheDocument();
    expect(app.path()).toBe('/');
  });

  it('closes on Escape and on Cancel, returning focus to the button that opened it', async () => {
    const app = setup();
    let { opener } = await openModal(app);
    await app.user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(opener).toHaveFocus();

    ({ opener } = await openModal(app));
    await app.user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(opener).toHaveFocus();
  });

  it('keeps Tab focus inside the dialog', async () => {
    const app = setup();
    const { ui, dialog } = await openModal(app);
    await app.user.type(ui.getByLabelText('Project ID'), '4711');
    await ui.findByText('✓ Bandar Abbas Refinery');
    await app.user.type(ui.getByLabelText('Page Name'), 'Valve sizing');

    for (let i = 0; i < 6; i += 1) {
      await app.user.tab();
      expect(dialog).toContainElement(document.activeElement as HTMLElement);
    }
    ui.getByLabelText('Project ID').focus();
    await app.user.tab({ shift: true });
    expect(ui.getByRole('button', { name: 'Create' })).toHaveFocus();
  });
});
