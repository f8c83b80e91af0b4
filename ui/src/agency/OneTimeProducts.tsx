/**
 * The agency's one-time products (a set-up fee, a report): each a Stripe product with a one-time price. Create one
 * (amount typed in the currency's units, sent in cents), list them, archive one (no new charges; charges made stay).
 */
import { useState, type FormEvent } from 'react';
import { catalogApi, type OneTimeProduct } from '../api-catalog';
import { ConfirmedAction } from '../components/ConfirmedAction';
import { Empty, ErrorNotice, Loading, Notice } from '../components/States';
import { Writes } from '../components/permissions';
import { useResource } from '../components/useResource';
import { formatCents, majorToCents } from '../format';

export function OneTimeProducts() {
  const products = useResource(() => catalogApi.oneTimeProducts(), []);
  const [message, setMessage] = useState<string | null>(null);
  const list = products.data?.products ?? [];
  return (
    <section className="card" aria-labelledby="products-title">
      <h2 id="products-title">One-time products</h2>
      <p className="muted small">Charge them once to a client from the client’s page: at once with the card on file, or by an invoice Stripe emails.</p>
      <Writes>
        <ProductForm
          onCreated={(p) => {
            setMessage(`Product “${p.name}” created in Stripe.`);
            products.reload();
          }}
        />
      </Writes>
      {message ? <Notice>{message}</Notice> : null}
      {products.error ? <ErrorNotice error={products.error} onRetry={products.reload} /> : null}
      {products.loading && !products.data ? <Loading /> : null}
      {products.data && list.length === 0 ? <Empty>No one-time product yet.</Empty> : null}
      {list.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="One-time products">
            <thead>
              <tr>
                <th>Name</th>
                <th className="num">Amount</th>
                <th>Tax</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((p) => (
                <tr key={p.id}>
                  <td>
                    {p.name} {p.archived ? <span className="badge warn">Archived</span> : null}
                    {p.description ? <div className="muted small">{p.description}</div> : null}
                  </td>
                  <td className="num">{formatCents(p.amount, p.currency)}</td>
                  <td>{p.taxBehavior === 'inclusive' ? 'Included' : 'Added'}</td>
                  <td>
                    {!p.archived ? (
                      <Writes>
                        <ConfirmedAction
                          label="Archive"
                          ariaLabel={`Archive product ${p.name}`}
                          question="Archive it? Charges already made stay."
                          confirmLabel="Archive"
                          groupLabel={`Confirm archiving ${p.name}`}
                          run={async () => {
                            await catalogApi.archiveOneTimeProduct(p.id);
                            setMessage(`Product “${p.name}” archived.`);
                            products.reload();
                          }}
                        />
                      </Writes>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

function ProductForm({ onCreated }: { onCreated: (p: OneTimeProduct) => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [amount, setAmount] = useState('');
  const [currency, setCurrency] = useState('usd');
  const [taxBehavior, setTaxBehavior] = useState<'exclusive' | 'inclusive'>('exclusive');
  const [state, setState] = useState<{ busy?: boolean; error?: unknown }>({});
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const cents = majorToCents(amount);
    if (!cents || cents.includes('.') || cents === '0') return setState({ error: new Error('Type the amount in whole cents at most, e.g. 499 or 499.99.') });
    setState({ busy: true });
    try {
      onCreated(await catalogApi.createOneTimeProduct({ name: name.trim(), ...(description.trim() ? { description: description.trim() } : {}), amount: Number(cents), currency, taxBehavior }));
      setName('');
      setDescription('');
      setAmount('');
      setState({});
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <form onSubmit={submit} className="stack" aria-label="New one-time product">
      <div className="row">
        <label htmlFor="product-name">Product name</label>
        <input id="product-name" value={name} required maxLength={250} onChange={(e) => setName(e.target.value)} />
      </div>
      <div className="row">
        <label htmlFor="product-description">Description (optional)</label>
        <input id="product-description" value={description} maxLength={1000} onChange={(e) => setDescription(e.target.value)} />
      </div>
      <div className="row">
        <label htmlFor="product-amount">Price</label>
        <input id="product-amount" className="short" inputMode="decimal" required value={amount} onChange={(e) => setAmount(e.target.value)} placeholder="499.00" />
        <label htmlFor="product-currency">Currency</label>
        <input id="product-currency" className="short" maxLength={3} value={currency} onChange={(e) => setCurrency(e.target.value.toLowerCase())} />
        <label htmlFor="product-tax">Tax</label>
        <select id="product-tax" value={taxBehavior} onChange={(e) => setTaxBehavior(e.target.value as 'exclusive' | 'inclusive')}>
          <option value="exclusive">Added on top of the price</option>
          <option value="inclusive">Included in the price</option>
        </select>
      </div>
      {state.error ? <ErrorNotice error={state.error} /> : null}
      <button type="submit" className="button" disabled={state.busy}>
        Create product
      </button>
    </form>
  );
}
