import { createHistoryDb } from '@simorgh/api/postgres';

export const SEARCH_USER = 'search.bench';
/** Chats of other users shared with SEARCH_USER by name, so the sharing branch of the visibility condition has rows. */
const SHARED_WITH_USER = 200;

/**
 * English vocabulary by frequency rank (1 = most frequent). Words are drawn with a Zipf
 * distribution (P(rank r) ∝ 1/r), so at ~25 words a message the word at rank 5 (`pressure`)
 * is in about four messages in ten, `valve` (25) in one in eight. The ranks not named here are filled with made-up words of consonant-vowel syllables,
 * which can never spell a query word (each query word has a consonant or vowel cluster).
 */
const ENGLISH_RANKS: Record<number, string> = {
  1: 'the', 2: 'of', 3: 'and', 4: 'to', 5: 'pressure', 6: 'in', 7: 'for', 8: 'is', 9: 'flow', 10: 'with',
  11: 'pump', 12: 'at', 13: 'design', 14: 'line', 15: 'check', 16: 'temperature', 17: 'case', 18: 'this', 19: 'we', 20: 'load',
  21: 'heat', 22: 'size', 23: 'should', 24: 'water', 25: 'valve', 26: 'relief', 27: 'header', 28: 'margin', 29: 'basis', 30: 'data',
  32: 'stress', 34: 'piping', 36: 'duty', 38: 'calculation', 40: 'compressor', 44: 'exchanger', 48: 'cooling', 52: 'tower', 56: 'flare',
  60: 'seal', 65: 'curve', 70: 'impeller', 80: 'surge', 90: 'trip', 100: 'vibration', 120: 'compression', 140: 'fouling', 160: 'velocity',
  180: 'noise', 200: 'npsh', 250: 'tube', 300: 'shell', 400: 'compressed', 500: 'setpoint', 700: 'blowdown', 900: 'hydrotest',
  1200: 'compressibility', 2000: 'thermowell', 3000: 'compressors', 5000: 'orifice', 8000: 'desuperheater',
};
const ENGLISH_SIZE = 20_000;

/** Persian vocabulary the same way (ZWNJ inside words, one word in its Arabic spelling, Persian digits). */
const PERSIAN_RANKS: Record<number, string> = {
  1: 'و', 2: 'در', 3: 'به', 4: 'از', 5: 'فشار', 6: 'که', 7: 'این', 8: 'را', 9: 'با', 10: 'پمپ',
  11: 'است', 12: 'شیر', 13: 'طراحی', 14: 'دما', 15: 'می‌شود', 16: 'خط', 17: 'جریان', 18: 'گزارش', 19: 'محاسبه', 20: 'مبدل',
  25: 'کمپرسور', 30: 'مهندس', 40: 'ایمنی', 60: 'كتاب', 80: 'لوله‌کشی', 120: '۱۲۵', 200: 'می‌خواهم', 400: 'بازرسی',
};
const PERSIAN_SIZE = 5_000;

function vocabulary(named: Record<number, string>, size: number, consonants: string[], vowels: string[]): string[] {
  const syllables = consonants.flatMap((consonant) => vowels.map((vowel) => consonant + vowel));
  const madeUp = (index: number) => {
    let word = '';
    for (let rest = index + syllables.length; rest > 0; rest = Math.floor(rest / syllables.length)) word += syllables[rest % syllables.length];
    return word;
  };
  return Array.from({ length: size }, (_, index) => named[index + 1] ?? madeUp(index));
}

const ENGLISH = vocabulary(ENGLISH_RANKS, ENGLISH_SIZE, [...'bdfgklmnstvz'], [...'aeiou']);
const PERSIAN = vocabulary(PERSIAN_RANKS, PERSIAN_SIZE, [...'بتسجخدزشفگلمن'], ['ا', 'و', 'ی']);

const TITLES = [
  'Relief valve set pressure', 'Pump sizing for the cooling water loop', 'Compressor trip review', 'Heat exchanger fouling',
  'Flare header study', 'Line sizing', 'Design basis questions', 'Seal flush plan', 'NPSH margin check', 'Piping stress notes',
  'Control valve selection', 'Tower internals', 'Vibration readings', 'Hydrotest procedure', 'Orifice plate calculation',
  'Meeting notes', 'Email draft', 'Datasheet review', 'Commissioning checklist', 'Weekly report',
  'گزارش هفتگی', 'طراحی پمپ', 'محاسبه فشار خط', 'بازرسی شیر اطمینان',
];

/** Sentences drawn once, messages made of them: each word looked up once per sentence, not once per message. */
const SENTENCES = { en: 40_000, fa: 10_000 };

/** Whether the corpus of `messages` messages is already there (a PostgreSQL data dir kept between runs). */
export async function hasSearchCorpus(databaseUrl: string, messages: number): Promise<boolean> {
  const history = createHistoryDb({ DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: 1 });
  try {
    const { rows } = await history.pool.query<{ complete: boolean }>(
      `SELECT (SELECT count(*) FROM chats WHERE chat_id LIKE 'B-%') = $1 AND EXISTS (SELECT 1 FROM messages WHERE message_id = 'BM-' || $2::int) AND NOT EXISTS (SELECT 1 FROM messages WHERE message_id = 'BM-' || ($2::int + 1)) AS complete`,
      [Math.ceil(messages / 20), messages],
    );
    return rows[0]?.complete === true;
  } finally {
    await history.db.destroy();
  }
}

/**
 * Writes the corpus straight into the history tables, as the mirror would have: `messages`
 * messages, 20 to a chat; chats written 100 at a time, their messages interleaved in time over
 * the last year; every fifth chat SEARCH_USER's, the others spread over 1 000 users, 200 of
 * them (general chats) shared with SEARCH_USER by name; three in ten of the rest project chats.
 * Messages are made of sentences of Zipf-drawn words: user turns 1–3 plain sentences, replies
 * 3–8 in markdown (a heading, bold, code, lists); one in seven Persian. The indexes of
 * `messages` are dropped first and built again once the rows are in (as a restore does): the
 * same indexes, minutes faster. Returns the seconds it took.
 */
export async function seedSearchCorpus(databaseUrl: string, messages: number): Promise<{ chats: number; messages: number; seconds: number }> {
  const started = performance.now();
  const chats = Math.ceil(messages / 20);
  const history = createHistoryDb({ DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: 1 });
  // One connection, so the session settings hold.
  const client = await history.pool.connect();
  try {
    await client.query("SET statement_timeout = 0; SET maintenance_work_mem = '256MB'; SET synchronous_commit = off");
    const { rows: indexes } = await client.query<{ name: string; definition: string }>(
      `SELECT indexname AS name, indexdef AS definition FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'messages' AND indexname <> 'messages_pkey'`,
    );
    for (const index of indexes) await client.query(`DROP INDEX "${index.name}"`);
    const start = `now() - interval '365 days'`;
    const step = `interval '365 days' / ${messages}`;
    // Chat c's first message: block (c-1)/100 of 2 000 messages, position (c-1)%100 in it.
    await client.query(
      `INSERT INTO chats (chat_id, user_id, chat_type, project_number, project_name, page_name, chat_name, status, created_at, updated_at,
                          message_count, last_activity_at, allowed_users, metadata, mirror_version)
       SELECT 'B-' || c, CASE WHEN c % 5 = 0 THEN $1 ELSE 'search.other' || (c % 1000) END,
              CASE WHEN project THEN 'project' ELSE 'general' END,
              CASE WHEN project THEN (10000 + c % 200)::text END, CASE WHEN project THEN 'Unit ' || (c % 200) END,
              CASE WHEN project THEN 'Area ' || (c % 7) END,
              ($2::text[])[1 + c % cardinality($2::text[])] || ' ' || (c % 97),
              'active', first_at, first_at + interval '2 hours', 20, first_at + interval '2 hours',
              CASE WHEN shared THEN ARRAY[$1] ELSE '{}' END, '{}', 1
       FROM generate_series(1, $4::int) AS c,
            -- Shared chats are general ones: a project chat shared by name needs TPMS permission on its project.
            LATERAL (SELECT c % 5 = 1 AND c <= 5 * $3 AS shared) AS s,
            LATERAL (SELECT ${start} + ((c - 1) / 100 * 2000 + (c - 1) % 100) * ${step} AS first_at, (c / 10) % 10 < 3 AND NOT shared AS project) AS t`,
      [SEARCH_USER, TITLES, SHARED_WITH_USER, chats],
    );
    // Sentences of 5–12 words, each drawn with a Zipf distribution (log-uniform rank is Zipf with
    // exponent 1); every other English sentence carries markdown (bold, code, emphasis), as replies do.
    await client.query(
      `CREATE TEMP TABLE bench_words AS
         SELECT 'en' AS lang, rank::int, word FROM unnest($1::text[]) WITH ORDINALITY AS w(word, rank)
         UNION ALL SELECT 'fa', rank::int, word FROM unnest($2::text[]) WITH ORDINALITY AS w(word, rank)`,
      [ENGLISH, PERSIAN],
    );
    await client.query('ALTER TABLE bench_words ADD PRIMARY KEY (lang, rank)');
    await client.query(
      `CREATE TEMP TABLE bench_sentences AS
         WITH drawn AS MATERIALIZED (
           SELECT l.lang, n, k, floor(power(l.size, random()))::int AS rank
           FROM (VALUES ('en', $1::int, $2::int), ('fa', $3::int, $4::int)) AS l(lang, sentences, size),
                generate_series(1, l.sentences) AS n, generate_series(1, 5 + n % 8) AS k)
         SELECT lang, n, string_agg(CASE WHEN lang = 'en' AND n % 2 = 0 AND k % 9 = 4 THEN '**' || word || '**'
                                         WHEN lang = 'en' AND n % 2 = 0 AND k % 11 = 7 THEN '\`' || word || '\`'
                                         WHEN lang = 'en' AND n % 2 = 0 AND k % 13 = 2 THEN '*' || word || '*'
                                         ELSE word END, ' ' ORDER BY k) || '.' AS sentence
         FROM drawn JOIN bench_words USING (lang, rank)
         GROUP BY lang, n`,
      [SENTENCES.en, ENGLISH.length, SENTENCES.fa, PERSIAN.length],
    );
    await client.query('ALTER TABLE bench_sentences ADD PRIMARY KEY (lang, n)');
    // The rare word, in 3 sentences of 40 000 (each used by ~70 messages): about 1 message in 5 000.
    await client.query(`UPDATE bench_sentences SET sentence = 'Check the deaerator ' || sentence WHERE lang = 'en' AND n % 13331 = 0`);
    // Message m: chat 1 + (m-1)%100 + 100*((m-1)/2000), turn ((m-1)%2000)/100 + 1 (odd turns the
    // user's: 1–3 plain sentences; replies 3–8 sentences, a heading, a list). One in seven is Persian.
    await client.query('ANALYZE bench_sentences');
    const slice = 200_000;
    for (let from = 1; from <= messages; from += slice) {
      await client.query(
        `INSERT INTO messages (message_id, chat_id, seq, role, content, status, created_at, mirror_version, owner_id)
         WITH picked AS MATERIALIZED (
           SELECT m, chat, turn, user_turn, k,
                  CASE WHEN m % 7 = 0 THEN 'fa' ELSE 'en' END AS lang,
                  CASE WHEN m % 7 = 0 THEN 1 + floor(random() * ${SENTENCES.fa})::int
                       ELSE 1 + 2 * floor(random() * ${SENTENCES.en / 2})::int + CASE WHEN user_turn THEN 0 ELSE k % 2 END END AS n
           FROM generate_series($1::int, $2::int) AS m,
                LATERAL (SELECT 1 + (m - 1) % 100 + 100 * ((m - 1) / 2000) AS chat, ((m - 1) % 2000) / 100 + 1 AS turn, ((m - 1) % 2000) / 100 % 2 = 0 AS user_turn) AS t,
                generate_series(1, CASE WHEN user_turn THEN 1 + m % 3 ELSE 3 + m % 6 END) AS k)
         SELECT 'BM-' || m, 'B-' || chat, turn, CASE WHEN user_turn THEN 'user' ELSE 'assistant' END,
                string_agg(CASE WHEN NOT user_turn AND k = 1 AND m % 3 = 0 THEN '## ' || rtrim(sentence, '.') || E'\n'
                                WHEN NOT user_turn AND k > 2 AND k % 3 = 0 THEN E'\n- ' || sentence
                                ELSE sentence END, ' ' ORDER BY k),
                'complete', ${start} + m * ${step}, 1,
                -- The chat's owner, as the mirror writes it (the chats' user_id above).
                CASE WHEN chat % 5 = 0 THEN $3 ELSE 'search.other' || (chat % 1000) END
         FROM picked JOIN bench_sentences USING (lang, n)
         GROUP BY m, chat, turn, user_turn`,
        [from, Math.min(messages, from + slice - 1), SEARCH_USER],
      );
    }
    for (const index of indexes) await client.query(index.definition);
    await client.query('VACUUM ANALYZE chats');
    await client.query('VACUUM ANALYZE messages');
    return { chats, messages, seconds: (performance.now() - started) / 1000 };
  } finally {
    client.release();
    await history.db.destroy();
  }
}
