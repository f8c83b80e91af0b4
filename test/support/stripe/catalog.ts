/**
 * Products (docs.stripe.com/api/products) and prices (docs.stripe.com/api/prices): per-unit and graduated tiers,
 * metered through a billing meter or licensed, lookup keys (with `transfer_lookup_key`), inline `product_data`.
 */
import type { Fake, Route, StripeJson } from './types';
import { arr, bool, byId, decimal, ID, integer, invalid, list, mergeMetadata, missingParam, newId, noSuch, now, obj, requireString, str, type FormObject } from './wire';

/** The routes of catalog. */
export function catalogRoutes({ stub, state }: Fake): Route[] {
  function buildTiers(params: FormObject): StripeJson['tiers'] {
    const given = arr(params.tiers);
    if (!given || given.length === 0) throw missingParam('tiers');
    const tiers = given.map((raw, i) => {
      const tier = obj(raw);
      if (!tier) throw invalid(`Invalid tiers[${i}]: must be an object.`, `tiers[${i}]`);
      const upToRaw = str(tier.up_to);
      if (upToRaw === undefined) throw missingParam(`tiers[${i}][up_to]`);
      const upTo = upToRaw === 'inf' ? null : integer(upToRaw, `tiers[${i}][up_to]`, 1)!;
      const unitAmount = integer(tier.unit_amount, `tiers[${i}][unit_amount]`);
      const unitDecimal = decimal(tier.unit_amount_decimal, `tiers[${i}][unit_amount_decimal]`);
      const flatAmount = integer(tier.flat_amount, `tiers[${i}][flat_amount]`);
      const flatDecimal = decimal(tier.flat_amount_decimal, `tiers[${i}][flat_amount_decimal]`);
      if (unitAmount !== undefined && unitDecimal !== undefined) {
        throw invalid(`You may only specify one of these parameters: tiers[${i}][unit_amount], tiers[${i}][unit_amount_decimal].`, `tiers[${i}]`);
      }
      if (flatAmount !== undefined && flatDecimal !== undefined) {
        throw invalid(`You may only specify one of these parameters: tiers[${i}][flat_amount], tiers[${i}][flat_amount_decimal].`, `tiers[${i}]`);
      }
      if ([unitAmount, unitDecimal, flatAmount, flatDecimal].every((v) => v === undefined)) {
        throw invalid(`Each tier needs an amount: tiers[${i}] has none (approximate).`, `tiers[${i}]`);
      }
      const unit = unitDecimal ?? (unitAmount === undefined ? null : String(unitAmount));
      const flat = flatDecimal ?? (flatAmount === undefined ? null : String(flatAmount));
      return {
        flat_amount: flat !== null && !flat.includes('.') ? Number(flat) : null,
        flat_amount_decimal: flat,
        unit_amount: unit !== null && !unit.includes('.') ? Number(unit) : null,
        unit_amount_decimal: unit,
        up_to: upTo,
      };
    });
    tiers.forEach((tier, i) => {
      const last = i === tiers.length - 1;
      if (last !== (tier.up_to === null)) throw invalid("The last tier's up_to must be `inf`, and only the last one (approximate).", `tiers[${i}][up_to]`);
      const previous = tiers[i - 1]?.up_to;
      if (i > 0 && tier.up_to !== null && previous != null && tier.up_to <= previous) {
        throw invalid('Tiers must be in increasing order of up_to (approximate).', `tiers[${i}][up_to]`);
      }
    });
    return tiers;
  }

  function createPrice(params: FormObject): StripeJson {
    const currency = requireString(params, 'currency');
    if (!/^[a-z]{3}$/.test(currency)) throw invalid(`Invalid currency: ${currency}. Use a three-letter ISO code in lowercase.`, 'currency');
    const productGiven = str(params.product);
    const productData = obj(params.product_data);
    if (productGiven && productData) throw invalid('You may only specify one of these parameters: product, product_data.', 'product');
    if (productGiven) {
      if (!state.products.get(productGiven)) throw noSuch('product', productGiven, 'product', 400);
    } else if (productData) {
      if (!str(productData.name)) throw missingParam('product_data[name]');
    } else {
      throw invalid('You must specify either `product` or `product_data` when creating a price.', 'product');
    }

    let recurring: StripeJson['recurring'] = null;
    const rec = obj(params.recurring);
    if (rec) {
      const interval = str(rec.interval);
      if (!interval) throw missingParam('recurring[interval]');
      if (!['day', 'week', 'month', 'year'].includes(interval)) throw invalid(`Invalid recurring[interval]: ${interval}`, 'recurring[interval]');
      const usageType = str(rec.usage_type) ?? 'licensed';
      if (!['licensed', 'metered'].includes(usageType)) throw invalid(`Invalid recurring[usage_type]: ${usageType}`, 'recurring[usage_type]');
      const meter = str(rec.meter) ?? null;
      // Since API 2025-03-31.basil a metered price must be backed by a billing meter (legacy usage records are gone).
      if (usageType === 'metered' && !meter) throw invalid('A metered price needs recurring[meter] (approximate).', 'recurring[meter]');
      if (meter) {
        const found = state.meters.get(meter);
        if (!found) throw noSuch('billing meter', meter, 'recurring[meter]', 400);
        if (found.status !== 'active') throw invalid("You can't attach a deactivated meter to a price.", 'recurring[meter]');
        if (usageType !== 'metered') throw invalid('recurring[meter] requires recurring[usage_type]=metered (approximate).', 'recurring[meter]');
      }
      recurring = {
        interval,
        interval_count: integer(rec.interval_count, 'recurring[interval_count]', 1) ?? 1,
        meter,
        trial_period_days: null,
        usage_type: usageType,
      };
    }

    const scheme = str(params.billing_scheme) ?? 'per_unit';
    let unitAmount: number | null = null;
    let unitDecimal: string | null = null;
    let tiers: StripeJson['tiers'] = null;
    let tiersMode: string | null = null;
    if (scheme === 'per_unit') {
      const amount = integer(params.unit_amount, 'unit_amount');
      const dec = decimal(params.unit_amount_decimal, 'unit_amount_decimal');
      if (amount !== undefined && dec !== undefined) throw invalid('You may only specify one of these parameters: unit_amount, unit_amount_decimal.', 'unit_amount');
      if (amount === undefined && dec === undefined) throw invalid('You must specify either `unit_amount` or `unit_amount_decimal` (approximate).', 'unit_amount');
      if (params.tiers !== undefined || params.tiers_mode !== undefined) throw invalid('tiers and tiers_mode require billing_scheme=tiered (approximate).', 'tiers');
      unitDecimal = dec ?? String(amount);
      unitAmount = unitDecimal.includes('.') ? null : Number(unitDecimal);
    } else if (scheme === 'tiered') {
      tiersMode = requireString(params, 'tiers_mode');
      if (!['graduated', 'volume'].includes(tiersMode)) throw invalid(`Invalid tiers_mode: ${tiersMode}`, 'tiers_mode');
      if (params.unit_amount !== undefined || params.unit_amount_decimal !== undefined) {
        throw invalid('unit_amount cannot be set when billing_scheme=tiered (approximate).', 'unit_amount');
      }
      if (!recurring) throw invalid('Tiered prices must be recurring (approximate).', 'billing_scheme');
      tiers = buildTiers(params);
    } else {
      throw invalid(`Invalid billing_scheme: ${scheme}`, 'billing_scheme');
    }

    const lookupKey = str(params.lookup_key) || null;
    if (lookupKey) claimLookupKey(lookupKey, bool(params.transfer_lookup_key) === true, null);
    const taxBehavior = str(params.tax_behavior) ?? 'unspecified';
    // Everything is valid: only now is the inline product made (docs.stripe.com/api/prices/create `product_data`).
    const productId = productGiven ?? insertProduct({ ...productData!, metadata: productData!.metadata ?? {} }).id;
    const price: StripeJson = {
      id: newId('price'),
      object: 'price',
      active: bool(params.active) ?? true,
      billing_scheme: scheme,
      created: now(),
      currency,
      custom_unit_amount: null,
      livemode: false,
      lookup_key: lookupKey,
      metadata: mergeMetadata({}, params.metadata),
      nickname: str(params.nickname) ?? null,
      product: productId,
      recurring,
      tax_behavior: taxBehavior,
      tiers,
      tiers_mode: tiersMode,
      transform_quantity: null,
      type: recurring ? 'recurring' : 'one_time',
      unit_amount: unitAmount,
      unit_amount_decimal: unitDecimal,
    };
    state.prices.set(price.id, price);
    return price;
  }

  /** docs.stripe.com/api/prices/create `transfer_lookup_key`: moves the key atomically, else a taken key is refused. */
  function claimLookupKey(lookupKey: string, transfer: boolean, self: string | null): void {
    if (lookupKey.length > 200) throw invalid('lookup_key may be up to 200 characters.', 'lookup_key');
    const holder = [...state.prices.values()].find((p) => p.lookup_key === lookupKey && p.id !== self);
    if (!holder) return;
    if (!transfer) throw invalid(`A price (\`${holder.id}\`) already uses that lookup key.`, 'lookup_key');
    holder.lookup_key = null;
  }

  // ---------- products: docs.stripe.com/api/products ----------

  function insertProduct(params: FormObject): StripeJson {
    const name = requireString(params, 'name');
    const id = str(params.id) ?? newId('prod');
    if (state.products.has(id)) throw invalid(`Product already exists.`, 'id', 'resource_already_exists');
    const product: StripeJson = {
      id,
      object: 'product',
      active: bool(params.active) ?? true,
      created: now(),
      default_price: null,
      description: str(params.description) ?? null,
      images: [],
      livemode: false,
      marketing_features: [],
      metadata: mergeMetadata({}, params.metadata),
      name,
      package_dimensions: null,
      shippable: null,
      statement_descriptor: null,
      tax_code: null,
      unit_label: str(params.unit_label) ?? null,
      updated: now(),
      url: null,
    };
    state.products.set(id, product);
    return product;
  }

  const productById = byId(state.products, 'product');
  const priceById = byId(state.prices, 'price');

  return [
  // docs.stripe.com/api/products
  { method: 'POST', pattern: /^\/v1\/products$/, resource: 'products', access: 'write', accepts: ['id', 'name', 'active', 'description', 'metadata', 'unit_label'], handle: ({ params }) => ({ body: insertProduct(params) }) },
  { method: 'GET', pattern: new RegExp(`^/v1/products/${ID}$`), resource: 'products', access: 'read', accepts: [], handle: (_ctx, id) => ({ body: productById(id) }) },
  {
    method: 'POST',
    pattern: new RegExp(`^/v1/products/${ID}$`),
    resource: 'products',
    access: 'write',
    accepts: ['name', 'active', 'description', 'metadata', 'unit_label'],
    handle: ({ params }, id) => {
      const product = productById(id);
      const name = str(params.name);
      if (name !== undefined) product.name = name;
      const active = bool(params.active);
      if (active !== undefined) product.active = active;
      product.metadata = mergeMetadata(product.metadata, params.metadata);
      product.updated = now();
      return { body: product };
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/products$/,
    resource: 'products',
    access: 'read',
    accepts: ['active', 'limit', 'starting_after', 'ending_before', 'ids'],
    handle: ({ params }) => {
      const active = bool(params.active);
      return { body: list([...state.products.values()].filter((p) => active === undefined || p.active === active), params, '/v1/products') };
    },
  },

  // docs.stripe.com/api/prices
  {
    method: 'POST',
    pattern: /^\/v1\/prices$/,
    resource: 'prices',
    access: 'write',
    accepts: ['currency', 'product', 'product_data', 'recurring', 'billing_scheme', 'unit_amount', 'unit_amount_decimal', 'tiers', 'tiers_mode', 'lookup_key', 'transfer_lookup_key', 'metadata', 'nickname', 'active', 'tax_behavior'],
    handle: ({ params, expand }) => ({ body: priceView(createPrice(params), expand) }),
  },
  { method: 'GET', pattern: new RegExp(`^/v1/prices/${ID}$`), resource: 'prices', access: 'read', accepts: [], handle: ({ expand }, id) => ({ body: priceView(priceById(id), expand) }) },
  {
    method: 'POST',
    pattern: new RegExp(`^/v1/prices/${ID}$`),
    resource: 'prices',
    access: 'write',
    accepts: ['active', 'lookup_key', 'transfer_lookup_key', 'metadata', 'nickname', 'tax_behavior'],
    handle: ({ params, expand }, id) => {
      const price = priceById(id);
      const active = bool(params.active);
      if (active !== undefined) price.active = active;
      const lookupKey = str(params.lookup_key);
      if (lookupKey !== undefined) {
        if (lookupKey) claimLookupKey(lookupKey, bool(params.transfer_lookup_key) === true, id);
        price.lookup_key = lookupKey || null;
      }
      price.metadata = mergeMetadata(price.metadata, params.metadata);
      return { body: priceView(price, expand) };
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/prices$/,
    resource: 'prices',
    access: 'read',
    accepts: ['active', 'currency', 'product', 'type', 'lookup_keys', 'recurring', 'limit', 'starting_after', 'ending_before', 'created'],
    handle: ({ params, expand }) => {
      const active = bool(params.active);
      const lookupKeys = params.lookup_keys === undefined ? undefined : (arr(params.lookup_keys) ?? [params.lookup_keys]).map(String);
      if (lookupKeys && lookupKeys.length > 10) throw invalid('You can specify up to 10 lookup_keys.', 'lookup_keys');
      const items = [...state.prices.values()].filter(
        (p) =>
          (active === undefined || p.active === active) &&
          (lookupKeys === undefined || lookupKeys.includes(p.lookup_key)) &&
          (str(params.currency) === undefined || p.currency === str(params.currency)) &&
          (str(params.product) === undefined || p.product === str(params.product)) &&
          (str(params.type) === undefined || p.type === str(params.type)),
      );
      return { body: list(items, params, '/v1/prices', (p) => priceView(p, expand)) };
    },
  },
  ];
}

/** A price as the API answers it: `tiers` only when expanded (docs.stripe.com/api/prices/object#price_object-tiers). */
export function priceView(price: StripeJson, expand: string[]): StripeJson {
  if (expand.some((e) => e === 'tiers' || e.endsWith('.tiers'))) return { ...price };
  const { tiers: _omitted, ...rest } = price;
  return rest as StripeJson;
}
