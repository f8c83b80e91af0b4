/** The agency's catalogue: coupons (and one-time products) on its own Stripe account, to use per sub-account. */
import { Coupons } from './Coupons';
import { OneTimeProducts } from './OneTimeProducts';

export function CataloguePage() {
  return (
    <>
      <h1>Catalogue</h1>
      <p className="lead">What you can give or charge a client beyond usage: coupons on their subscription, one-time charges.</p>
      <Coupons />
      <OneTimeProducts />
    </>
  );
}
