/** The agency's catalogue: plans, coupons and one-time products on its own Stripe account, to use per sub-account. */
import { Coupons } from './Coupons';
import { OneTimeProducts } from './OneTimeProducts';
import { Plans } from './Plans';

export function CataloguePage() {
  return (
    <>
      <h1>Catalogue</h1>
      <p className="lead">What you can give or charge a client beyond usage: plans, coupons on their subscription, one-time charges.</p>
      <Plans />
      <Coupons />
      <OneTimeProducts />
    </>
  );
}
