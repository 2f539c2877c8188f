/**
 * The baseline for `pnpm bench`: a bare Express 5 app answering POST /baseline with a JSON body
 * the size of a POST /api/chats answer. Run as its own process, like the API.
 */
import express from 'express';

const app = express();
app.use(express.json({ limit: '64kb' }));
let seq = 0;
app.post('/baseline', (req, res) => {
  seq += 1;
  const now = new Date().toISOString();
  res.status(201).json({
    status: 'success',
    chat: {
      chat_id: `G-202601-${String(seq).padStart(6, '0')}`,
      chat_name: 'New conversation',
      user_id: 'bench.user',
      chat_type: (req.body as { chat_type?: string } | undefined)?.chat_type ?? 'general',
      project_number: null,
      project_name: null,
      page_name: null,
      created_at: now,
      updated_at: now,
      message_count: 0,
      status: 'active',
      pinned: false,
    },
    message: 'General session created',
  });
});
const server = app.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
