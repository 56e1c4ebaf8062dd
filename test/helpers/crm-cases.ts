import { type CrmResource } from '../../src/common/security/principal';
import { type TestApp } from './test-app';

/** Ids of rows the appointment and escrow cases reference (rows of the same team). */
export interface Refs {
  clientId: string;
  leadId: string;
  listingId: string;
}

type Row = Record<string, any>;
type Body = Record<string, unknown>;

/**
 * One CRM resource as the table-driven e2e tests see it: bodies, expected defaults, filters with their
 * expected predicate, sort keys, bad inputs. The behaviour under test is the generic one, so the five
 * resources share every test.
 */
export interface CrmCase {
  resource: CrmResource;
  singular: string;
  needsRefs: boolean;
  minimal: (refs: Refs) => Body;
  /** Every field, in the exact form the API returns it (money as decimal strings, ISO timestamps). */
  full: (refs: Refs) => Body;
  defaults: Body;
  patch: (refs: Refs) => Body;
  /** A NOT NULL field that PATCH must refuse to null. */
  requiredField: string;
  /** Rows with varied filter values. */
  variants: (refs: Refs) => Body[];
  filters: Array<{ query: Record<string, string>; match: (row: Row, refs: Refs) => boolean }>;
  search: { q: string; match: (row: Row) => boolean };
  sorts: Array<{ sort: string; key: (row: Row) => string | number }>;
  /** Bodies the API must refuse with 400 VALIDATION_ERROR. */
  invalid: (refs: Refs) => Array<[string, Body]>;
  /** Extra list query strings that must be 400. */
  badQueries: string[];
}

const ts = (row: Row, field: string) => new Date(row[field]).getTime();
const money = (v: unknown) => (v === null || v === undefined ? -1 : Number(v));
const long = (n: number) => 'x'.repeat(n);

export const CRM_CASES: CrmCase[] = [
  {
    resource: 'clients',
    singular: 'client',
    needsRefs: false,
    minimal: () => ({ firstName: 'Ada', lastName: 'Lovelace' }),
    full: () => ({
      firstName: 'Grace',
      lastName: 'Hopper',
      email: 'grace@example.com',
      phone: '+1 (555) 010-2030',
      clientType: 'investor',
      status: 'inactive',
      notes: 'Prefers email.\nNo calls after 6pm.',
      address: '1 Compiler Court, Arlington',
    }),
    defaults: {
      status: 'active',
      email: null,
      phone: null,
      clientType: null,
      notes: null,
      address: null,
      leadId: null,
    },
    patch: () => ({ status: 'archived', phone: null, notes: 'Updated notes' }),
    requiredField: 'lastName',
    variants: () => [
      { firstName: 'Zed', lastName: 'Zeta', clientType: 'buyer', status: 'active' },
      { firstName: 'Al', lastName: 'Alpha', clientType: 'seller', status: 'inactive' },
      { firstName: 'Mo', lastName: 'Mu', clientType: 'buyer', status: 'archived', email: 'findme@example.com' },
      { firstName: 'Al', lastName: 'Alpha', clientType: 'renter', status: 'active' },
      { firstName: 'Bea', lastName: 'Beta', clientType: 'both', status: 'inactive', address: '9 Findme Lane' },
      { firstName: 'Om', lastName: 'Omega', status: 'active' },
    ],
    filters: [
      { query: { clientType: 'buyer' }, match: (r) => r.clientType === 'buyer' },
      { query: { status: 'inactive' }, match: (r) => r.status === 'inactive' },
      {
        query: { clientType: 'buyer', status: 'active' },
        match: (r) => r.clientType === 'buyer' && r.status === 'active',
      },
    ],
    search: { q: 'FindMe', match: (r) => /findme/i.test(`${r.email} ${r.address}`) },
    sorts: [
      { sort: '-createdAt', key: (r) => ts(r, 'createdAt') },
      { sort: 'createdAt', key: (r) => ts(r, 'createdAt') },
      { sort: '-updatedAt', key: (r) => ts(r, 'updatedAt') },
      { sort: 'updatedAt', key: (r) => ts(r, 'updatedAt') },
      { sort: 'lastName', key: (r) => r.lastName },
      { sort: '-lastName', key: (r) => r.lastName },
    ],
    invalid: () => [
      ['missing lastName', { firstName: 'A' }],
      ['blank firstName', { firstName: '   ', lastName: 'B' }],
      ['unknown clientType', { firstName: 'A', lastName: 'B', clientType: 'tenant' }],
      ['bad email', { firstName: 'A', lastName: 'B', email: 'not-an-email' }],
      ['bad phone', { firstName: 'A', lastName: 'B', phone: 'call me' }],
      ['too long', { firstName: long(101), lastName: 'B' }],
      ['number as name', { firstName: 12, lastName: 'B' }],
      ['NUL byte', { firstName: 'A\u0000B', lastName: 'B' }],
      ['teamId in body', { firstName: 'A', lastName: 'B', teamId: '00000000-0000-4000-8000-000000000000' }],
      ['read-only leadId', { firstName: 'A', lastName: 'B', leadId: '00000000-0000-4000-8000-000000000000' }],
    ],
    badQueries: ['clientType=tenant', 'status=deleted', 'status=active&status=inactive'],
  },
  {
    resource: 'leads',
    singular: 'lead',
    needsRefs: false,
    minimal: () => ({ firstName: 'Lena', lastName: 'Lead' }),
    full: () => ({
      firstName: 'Larry',
      lastName: 'Prospect',
      email: 'larry@example.com',
      phone: '555-0199',
      leadType: 'seller',
      leadStatus: 'qualified',
      source: 'Open house',
      notes: 'Wants to list in spring',
    }),
    defaults: { leadStatus: 'new', leadType: null, source: null, convertedClientId: null, convertedAt: null },
    patch: () => ({ leadStatus: 'contacted', source: 'Referral' }),
    requiredField: 'firstName',
    variants: () => [
      { firstName: 'A', lastName: 'Young', leadType: 'buyer', leadStatus: 'new', source: 'Website' },
      { firstName: 'B', lastName: 'Xu', leadType: 'seller', leadStatus: 'contacted', source: 'website' },
      { firstName: 'C', lastName: 'Wong', leadType: 'buyer', leadStatus: 'lost', source: 'Referral' },
      { firstName: 'D', lastName: 'Vance', leadType: 'renter', leadStatus: 'new', email: 'needle@example.com' },
      { firstName: 'E', lastName: 'Ueda', leadType: 'investor', leadStatus: 'qualified', source: 'Zillow' },
      { firstName: 'F', lastName: 'Young', leadStatus: 'new' },
    ],
    filters: [
      { query: { leadType: 'buyer' }, match: (r) => r.leadType === 'buyer' },
      { query: { leadStatus: 'new' }, match: (r) => r.leadStatus === 'new' },
      { query: { source: 'WEBSITE' }, match: (r) => String(r.source).toLowerCase() === 'website' },
      {
        query: { leadType: 'buyer', leadStatus: 'new', source: 'website' },
        match: (r) => r.leadType === 'buyer' && r.leadStatus === 'new' && String(r.source).toLowerCase() === 'website',
      },
    ],
    search: { q: 'needle', match: (r) => /needle/i.test(String(r.email)) },
    sorts: [
      { sort: '-createdAt', key: (r) => ts(r, 'createdAt') },
      { sort: 'createdAt', key: (r) => ts(r, 'createdAt') },
      { sort: 'updatedAt', key: (r) => ts(r, 'updatedAt') },
      { sort: 'lastName', key: (r) => r.lastName },
      { sort: '-lastName', key: (r) => r.lastName },
    ],
    invalid: () => [
      ['missing firstName', { lastName: 'B' }],
      ['unknown leadType', { firstName: 'A', lastName: 'B', leadType: 'tenant' }],
      ['converted is set by /convert only', { firstName: 'A', lastName: 'B', leadStatus: 'converted' }],
      ['source too long', { firstName: 'A', lastName: 'B', source: long(101) }],
      [
        'read-only convertedClientId',
        { firstName: 'A', lastName: 'B', convertedClientId: '00000000-0000-4000-8000-000000000000' },
      ],
    ],
    badQueries: ['leadType=tenant', 'leadStatus=won', 'source='],
  },
  {
    resource: 'appointments',
    singular: 'appointment',
    needsRefs: true,
    minimal: () => ({ title: 'Showing', startsAt: '2030-01-01T09:00:00.000Z' }),
    full: (refs) => ({
      title: 'Walkthrough',
      startsAt: '2030-02-01T15:30:00.000Z',
      endsAt: '2030-02-01T16:15:00.000Z',
      location: '12 Elm Street',
      status: 'completed',
      clientId: refs.clientId,
      leadId: refs.leadId,
      notes: 'Bring the keys',
    }),
    defaults: { status: 'scheduled', endsAt: null, location: null, clientId: null, leadId: null, notes: null },
    patch: (refs) => ({ status: 'cancelled', endsAt: '2030-01-01T10:00:00.000Z', clientId: refs.clientId }),
    requiredField: 'startsAt',
    variants: (refs) => [
      { title: 'Day one', startsAt: '2030-03-01T10:00:00.000Z', status: 'scheduled', clientId: refs.clientId },
      { title: 'Day two', startsAt: '2030-03-02T10:00:00.000Z', status: 'completed' },
      {
        title: 'Day three',
        startsAt: '2030-03-03T10:00:00.000Z',
        status: 'cancelled',
        clientId: refs.clientId,
        location: 'Haystack Farm',
      },
      { title: 'Day four', startsAt: '2030-03-04T10:00:00.000Z', status: 'scheduled', leadId: refs.leadId },
      { title: 'Day five', startsAt: '2030-03-05T10:00:00.000Z', status: 'completed', clientId: refs.clientId },
      { title: 'Day two again', startsAt: '2030-03-02T10:00:00.000Z', status: 'scheduled' },
    ],
    filters: [
      { query: { status: 'completed' }, match: (r) => r.status === 'completed' },
      { query: { clientId: '<clientId>' }, match: (r, refs) => r.clientId === refs.clientId },
      {
        query: { from: '2030-03-02T10:00:00Z' },
        match: (r) => ts(r, 'startsAt') >= Date.parse('2030-03-02T10:00:00Z'),
      },
      { query: { to: '2030-03-03T00:00:00Z' }, match: (r) => ts(r, 'startsAt') <= Date.parse('2030-03-03T00:00:00Z') },
      {
        query: { from: '2030-03-02T00:00:00Z', to: '2030-03-04T23:59:59Z', status: 'scheduled' },
        match: (r) =>
          ts(r, 'startsAt') >= Date.parse('2030-03-02T00:00:00Z') &&
          ts(r, 'startsAt') <= Date.parse('2030-03-04T23:59:59Z') &&
          r.status === 'scheduled',
      },
    ],
    search: { q: 'haystack', match: (r) => /haystack/i.test(String(r.location)) },
    sorts: [
      { sort: '-createdAt', key: (r) => ts(r, 'createdAt') },
      { sort: 'createdAt', key: (r) => ts(r, 'createdAt') },
      { sort: 'startsAt', key: (r) => ts(r, 'startsAt') },
      { sort: '-startsAt', key: (r) => ts(r, 'startsAt') },
    ],
    invalid: () => [
      ['missing startsAt', { title: 'x' }],
      ['startsAt without a time zone', { title: 'x', startsAt: '2030-01-01T10:00:00' }],
      ['impossible date', { title: 'x', startsAt: '2030-02-30T10:00:00Z' }],
      ['endsAt before startsAt', { title: 'x', startsAt: '2030-01-01T10:00:00Z', endsAt: '2030-01-01T09:00:00Z' }],
      ['clientId not a uuid', { title: 'x', startsAt: '2030-01-01T10:00:00Z', clientId: 'client-1' }],
      ['unknown status', { title: 'x', startsAt: '2030-01-01T10:00:00Z', status: 'maybe' }],
    ],
    badQueries: ['from=yesterday', 'to=2030-13-01', 'clientId=123', 'status=done'],
  },
  {
    resource: 'escrows',
    singular: 'escrow',
    needsRefs: true,
    minimal: () => ({ propertyAddress: '7 Escrow Row' }),
    full: (refs) => ({
      propertyAddress: '42 Closing Court',
      escrowNumber: 'ESC-0042',
      purchasePrice: '612500.50',
      status: 'pending',
      openedAt: '2030-01-15',
      closingDate: '2030-02-28',
      clientId: refs.clientId,
      listingId: refs.listingId,
    }),
    defaults: {
      status: 'open',
      escrowNumber: null,
      purchasePrice: null,
      openedAt: null,
      closingDate: null,
      clientId: null,
      listingId: null,
    },
    patch: (refs) => ({ status: 'closed', purchasePrice: '1000.00', listingId: refs.listingId }),
    requiredField: 'propertyAddress',
    variants: (refs) => [
      { propertyAddress: '1 A St', status: 'open', clientId: refs.clientId, purchasePrice: '100000.00' },
      { propertyAddress: '2 B St', status: 'pending', escrowNumber: 'NEEDLE-1' },
      { propertyAddress: '3 C St', status: 'closed', clientId: refs.clientId },
      { propertyAddress: '4 D St', status: 'open' },
      { propertyAddress: '5 E St', status: 'cancelled', clientId: refs.clientId, listingId: refs.listingId },
    ],
    filters: [
      { query: { status: 'open' }, match: (r) => r.status === 'open' },
      { query: { clientId: '<clientId>' }, match: (r, refs) => r.clientId === refs.clientId },
      {
        query: { status: 'closed', clientId: '<clientId>' },
        match: (r, refs) => r.status === 'closed' && r.clientId === refs.clientId,
      },
    ],
    search: { q: 'needle-', match: (r) => /needle-/i.test(String(r.escrowNumber)) },
    sorts: [
      { sort: '-createdAt', key: (r) => ts(r, 'createdAt') },
      { sort: 'createdAt', key: (r) => ts(r, 'createdAt') },
      { sort: '-updatedAt', key: (r) => ts(r, 'updatedAt') },
    ],
    invalid: () => [
      ['missing propertyAddress', { escrowNumber: 'x' }],
      ['three decimals', { propertyAddress: 'p', purchasePrice: 1.234 }],
      ['negative price', { propertyAddress: 'p', purchasePrice: -5 }],
      ['price as words', { propertyAddress: 'p', purchasePrice: 'a lot' }],
      ['not a date', { propertyAddress: 'p', openedAt: '15/01/2030' }],
      ['closing before opening', { propertyAddress: 'p', openedAt: '2030-02-01', closingDate: '2030-01-01' }],
    ],
    badQueries: ['status=escrowed', 'clientId=nope'],
  },
  {
    resource: 'listings',
    singular: 'listing',
    needsRefs: false,
    minimal: () => ({ address: '100 Listing Lane' }),
    full: () => ({
      address: '200 Market Street',
      city: 'Springfield',
      state: 'IL',
      zip: '62701',
      price: '450000.00',
      bedrooms: 3,
      bathrooms: 2.5,
      squareFeet: 1850,
      status: 'pending',
      mlsNumber: 'MLS-200',
    }),
    defaults: {
      status: 'active',
      city: null,
      price: null,
      bedrooms: null,
      bathrooms: null,
      squareFeet: null,
      mlsNumber: null,
    },
    patch: () => ({ price: '399999.99', status: 'sold', bathrooms: 3 }),
    requiredField: 'status',
    variants: () => [
      { address: '1 Cheap St', city: 'Springfield', price: '100000.00', status: 'active' },
      { address: '2 Mid St', city: 'springfield', price: 250000, status: 'pending' },
      { address: '3 Dear St', city: 'Shelbyville', price: '900000.00', status: 'active', mlsNumber: 'NEEDLE-9' },
      { address: '4 Free St', city: 'Shelbyville', status: 'withdrawn' },
      { address: '5 Sold St', city: 'Ogdenville', price: '250000.00', status: 'sold' },
    ],
    filters: [
      { query: { status: 'active' }, match: (r) => r.status === 'active' },
      { query: { city: 'SPRINGFIELD' }, match: (r) => String(r.city).toLowerCase() === 'springfield' },
      { query: { minPrice: '250000' }, match: (r) => r.price !== null && Number(r.price) >= 250000 },
      { query: { maxPrice: '250000' }, match: (r) => r.price !== null && Number(r.price) <= 250000 },
      {
        query: { minPrice: '200000', maxPrice: '300000.5', city: 'springfield' },
        match: (r) =>
          r.price !== null &&
          Number(r.price) >= 200000 &&
          Number(r.price) <= 300000.5 &&
          String(r.city).toLowerCase() === 'springfield',
      },
    ],
    search: { q: 'needle', match: (r) => /needle/i.test(String(r.mlsNumber)) },
    sorts: [
      { sort: '-createdAt', key: (r) => ts(r, 'createdAt') },
      { sort: 'createdAt', key: (r) => ts(r, 'createdAt') },
      { sort: 'price', key: (r) => money(r.price) },
      { sort: '-price', key: (r) => money(r.price) },
    ],
    invalid: () => [
      ['missing address', { city: 'x' }],
      ['negative bedrooms', { address: 'a', bedrooms: -1 }],
      ['bedrooms as a string', { address: 'a', bedrooms: '3' }],
      ['bathrooms with two decimals', { address: 'a', bathrooms: 2.25 }],
      ['zero square feet', { address: 'a', squareFeet: 0 }],
      ['price too large', { address: 'a', price: '1000000000000.00' }],
      ['unknown status', { address: 'a', status: 'rented' }],
    ],
    badQueries: ['minPrice=cheap', 'maxPrice=-1', 'status=rented', 'city='],
  },
];

/** Substitutes `<clientId>` style placeholders in filter queries. */
export function fillQuery(query: Record<string, string>, refs: Refs): string {
  const pairs = Object.entries(query).map(([k, v]): [string, string] => [
    k,
    v.replace(/^<(\w+)>$/, (_m, key: keyof Refs) => refs[key]),
  ]);
  return new URLSearchParams(pairs).toString();
}

/** A client, a lead and a listing of the caller's team, through the API. */
export async function createRefs(t: TestApp, token: string): Promise<Refs> {
  const client = await t.http.post('/v1/clients', { firstName: 'Ref', lastName: 'Client' }, { token });
  const lead = await t.http.post('/v1/leads', { firstName: 'Ref', lastName: 'Lead' }, { token });
  const listing = await t.http.post('/v1/listings', { address: '1 Ref Road' }, { token });
  for (const r of [client, lead, listing])
    if (r.status !== 201) throw new Error(`could not create refs: ${r.status} ${r.text}`);
  return { clientId: client.body.data.id, leadId: lead.body.data.id, listingId: listing.body.data.id };
}

/** Every row of a list, following nextCursor. */
export async function listAll(t: TestApp, token: string, path: string, query = '', limit = 100): Promise<Row[]> {
  const rows: Row[] = [];
  let cursor: string | null = null;
  do {
    const qs: string = [query, `limit=${limit}`, cursor ? `cursor=${cursor}` : ''].filter(Boolean).join('&');
    const res = await t.http.get(`${path}?${qs}`, { token });
    if (res.status !== 200) throw new Error(`list ${path}?${qs}: ${res.status} ${res.text}`);
    rows.push(...res.body.data);
    cursor = res.body.meta.nextCursor ?? null;
  } while (cursor);
  return rows;
}
