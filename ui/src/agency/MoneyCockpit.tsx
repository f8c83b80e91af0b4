/**
 * The owner's cockpit on the Overview: this month's billed, HighLevel cost and profit with the change against last
 * month, the next invoices across clients, and what needs attention, each linking to the sub-accounts list filtered
 * to it. Money comes from GET /api/money (server/money/): integer cents, UTC calendar months. The next invoices and
 * the cards behind "billed without a card" are Stripe's answers as stored on the server and refreshed in the
 * background: each says as of when, and while some are still being read they are asked for again every 5 s, at most
 * 24 times (`usePollWhile`).
 */
import type { AgencyMoney, Attention } from '../api-types-money';
import { ErrorNotice, Loading } from '../components/States';
import { usePollWhile, type Resource } from '../components/useResource';
import { formatCents, formatInstant, formatNumber, metricLabel } from '../format';
import { Link } from '../router';

/** "Nov" for `2026-11`. */
export const monthName = (month: string, style: 'short' | 'long' = 'short') =>
  new Date(`${month}-01T00:00:00Z`).toLocaleDateString('en-US', { month: style, year: style === 'long' ? 'numeric' : undefined, timeZone: 'UTC' });

/** This month's figures against last month's. */
export function MoneyTiles({ money }: { money: Resource<AgencyMoney> }) {
  const m = money.data;
  const current = m?.months.at(-1);
  const previous = m?.months.at(-2);
  usePollWhile(m ? m.previews.fetching + m.previews.refreshing > 0 : false, money.reload, m);
  return (
    <section className="card" aria-labelledby="money-title" data-testid="money-this-month">
      <div className="card-head">
        <h2 id="money-title">Money this month{current ? ` · ${monthName(current.month, 'long')}` : ''}</h2>
        <span className="muted small">UTC calendar month, excluding tax</span>
      </div>
      {money.loading && !m ? <Loading /> : null}
      {money.error ? <ErrorNotice error={money.error} onRetry={money.reload} /> : null}
      {m && current ? (
        <>
          <div className="tiles">
            <Tile label="Billed" help="Invoiced this month plus the upcoming invoices" cents={current.billedCents} before={previous?.billedCents} m={m} field="billed" />
            <Tile label="HighLevel cost" help="Usage × the base costs on Pricing" cents={current.costCents} before={previous?.costCents} m={m} field="cost" />
            <Tile label="Profit" help="Billed − HighLevel cost" cents={current.marginCents} before={previous?.marginCents} m={m} field="margin" />
            <div className="tile" data-testid="tile-next">
              <span className="tile-label">Next invoices</span>
              <span className="tile-value">{formatCents(m.nextInvoice.totalCents, m.currency)}</span>
              <span className="muted small">
                across {formatNumber(m.nextInvoice.count)} client{m.nextInvoice.count === 1 ? '' : 's'}, tax included
              </span>
              <PreviewsFreshness previews={m.previews} />
            </div>
          </div>
          <MoneyNotes m={m} />
        </>
      ) : null}
    </section>
  );
}

/** As of when Stripe's previews were read, and how many are still being read (not yet in the total, or refreshing). */
function PreviewsFreshness({ previews }: { previews: AgencyMoney['previews'] }) {
  const parts = [
    previews.asOf ? `as of ${formatInstant(previews.asOf)}` : null,
    previews.fetching > 0 ? `${formatNumber(previews.fetching)} still being read from Stripe, not in the total yet` : null,
    previews.refreshing > 0 ? `${formatNumber(previews.refreshing)} being refreshed` : null,
  ].filter(Boolean);
  if (parts.length === 0) return null;
  return (
    <span className="muted small" data-testid="next-freshness">
      {parts.join(' · ')}
    </span>
  );
}

function Tile({ label, help, cents, before, m, field }: { label: string; help: string; cents: number; before: number | undefined; m: AgencyMoney; field: string }) {
  const delta = before === undefined ? null : cents - before;
  const percent = delta !== null && before ? Math.round((delta / Math.abs(before)) * 100) : null;
  const last = m.months.at(-2);
  return (
    <div className={`tile${field === 'margin' && cents < 0 ? ' tile-bad' : ''}`} data-testid={`tile-${field}`} title={help}>
      <span className="tile-label">{label}</span>
      <span className="tile-value">{formatCents(cents, m.currency)}</span>
      {delta !== null && last ? (
        <span className="tile-trend small" data-testid={`trend-${field}`}>
          <span aria-hidden="true">{delta > 0 ? '▲' : delta < 0 ? '▼' : '■'}</span> {delta >= 0 ? '+' : '−'}
          {formatCents(Math.abs(delta), m.currency)}
          {percent !== null ? ` (${percent >= 0 ? '+' : '−'}${Math.abs(percent)} %)` : ''} vs {monthName(last.month)}
        </span>
      ) : null}
    </div>
  );
}

/** What the figures leave out, said once (metrics by their label, a custom metric's too). */
export function MoneyNotes({ m }: { m: Pick<AgencyMoney, 'billing' | 'metricsWithoutBaseCost'> }) {
  const notes: string[] = [];
  if (!m.billing.available) notes.push(`Billed amounts are missing: ${m.billing.reason ?? 'Stripe could not be read.'}`);
  if (m.billing.otherCurrencyInvoices > 0) notes.push(`${m.billing.otherCurrencyInvoices} invoice(s) in another currency are left out.`);
  if (m.billing.previewErrors.length > 0) notes.push(`The next invoice of ${m.billing.previewErrors.length} client(s) could not be read from Stripe: ${m.billing.previewErrors[0]!.message}`);
  if (m.metricsWithoutBaseCost.length > 0) notes.push(`No base cost set on Pricing for ${m.metricsWithoutBaseCost.map(metricLabel).join(', ')}: counted as no HighLevel cost.`);
  if (notes.length === 0) return null;
  return (
    <ul className="money-notes small" data-testid="money-notes">
      {notes.map((n) => (
        <li key={n}>{n}</li>
      ))}
    </ul>
  );
}

/** The needs-attention list: each kind with its count, linking to the list filtered to those sub-accounts. */
export function NeedsAttention({ attention }: { attention: Resource<Attention> }) {
  const a = attention.data;
  const open = a?.items.filter((i) => i.count > 0) ?? [];
  usePollWhile(a ? a.cards.checking + a.cards.refreshing > 0 : false, attention.reload, a);
  return (
    <section className="card" aria-labelledby="attention-title" data-testid="needs-attention">
      <h2 id="attention-title">Needs attention</h2>
      {attention.loading && !a ? <Loading /> : null}
      {attention.error ? <ErrorNotice error={attention.error} onRetry={attention.reload} /> : null}
      {a && open.length === 0 ? <p className="muted">Nothing needs attention: every client is billed, paid up and in step with Stripe.</p> : null}
      {a ? (
        <ul className="attention">
          {a.items.map((item) => (
            <li key={item.kind} data-kind={item.kind} className={item.count > 0 ? 'open' : 'clear'}>
              {item.count > 0 ? (
                <Link to={item.to}>
                  <span className="attention-count">{formatNumber(item.count)}</span> {item.label}
                </Link>
              ) : (
                <span className="muted">
                  <span className="attention-count">0</span> {item.label}
                </span>
              )}
            </li>
          ))}
        </ul>
      ) : null}
      {a ? <CardsFreshness cards={a.cards} /> : null}
    </section>
  );
}

/**
 * How fresh "billed without a card" is: as of when Stripe was read for the cards counted, how many are still being
 * checked (not counted yet) or refreshed, and why some could not be checked; lines of text (spans shown as blocks, so
 * they fit in a paragraph too). Shared with the list's `no_card` filter.
 */
export function CardsFreshness({ cards }: { cards: Attention['cards'] }) {
  const parts = [
    cards.asOf ? `Cards as of ${formatInstant(cards.asOf)}` : null,
    cards.checking > 0 ? `${formatNumber(cards.checking)} still being checked with Stripe, not counted yet` : null,
    cards.refreshing > 0 ? `${formatNumber(cards.refreshing)} being refreshed` : null,
  ].filter(Boolean);
  const unreadable = cards.unreadable > 0 ? `${formatNumber(cards.unreadable)} card${cards.unreadable === 1 ? '' : 's'} could not be read from Stripe, not counted` : 'Cards could not be checked with Stripe';
  return (
    <>
      {parts.length > 0 ? (
        <span className="muted small block" data-testid="cards-freshness">
          {parts.join(' · ')}
        </span>
      ) : null}
      {cards.error ? (
        <span className="muted small block" data-testid="cards-error">
          {unreadable}: {cards.error}
        </span>
      ) : null}
    </>
  );
}
