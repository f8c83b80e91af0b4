import { startTestService, type TestService } from '../support/test-service';

/** A nickname per client (issue 18, Capri): the agency's own name for a sub-account, shown and searchable; blank removes it. */
const COMPANY = 'companyNickname00001';
const LOCATION = 'locNickname01';
let t: TestService;
let token = '';
const api = (method: 'get' | 'put', path: string, body?: object) => {
  let req = t.http[method](path).set('authorization', `Bearer ${token}`);
  if (body) req = req.send(body);
  return req;
};

beforeAll(async () => {
  t = await startTestService({ REPORTER_ENABLED: 'false' });
  await t.service.accounts.registerAgency(COMPANY, 'Nickname Agency');
  await t.service.accounts.registerSubAccount(LOCATION, COMPANY, 'Harbor Dental LLC');
  await t.service.accounts.registerSubAccount('locNickname02', COMPANY, 'Other Clinic');
  token = (await t.service.sessionTokens.issue({ userId: 'u-nick', companyId: COMPANY, type: 'agency', role: 'admin', activeLocation: null })).token;
});
afterAll(() => t.close());

describe('a nickname per client', () => {
  it('when the agency names a sub-account, then its detail and the list show it and the search finds it by it', async () => {
    const saved = (await api('put', `/api/sub-accounts/${LOCATION}/nickname`, { nickname: '  Dr. Ruiz  ' }).expect(200)).body;
    expect(saved).toMatchObject({ locationId: LOCATION, name: 'Harbor Dental LLC', nickname: 'Dr. Ruiz' });
    const found = (await api('get', '/api/sub-accounts?search=ruiz').expect(200)).body;
    expect(found.items.map((i: { locationId: string; nickname: string }) => [i.locationId, i.nickname])).toEqual([[LOCATION, 'Dr. Ruiz']]);
  });

  it('when the nickname is blank, then it is removed; when it is too long or the sub-account unknown, then 400 / 404 and nothing changes', async () => {
    expect((await api('put', `/api/sub-accounts/${LOCATION}/nickname`, { nickname: 'x'.repeat(101) }).expect(400)).body.error.code).toBe('invalid_request');
    expect((await api('put', '/api/sub-accounts/locUnknown/nickname', { nickname: 'Ghost' }).expect(404)).body.error.code).toBe('not_found');
    expect((await api('get', `/api/sub-accounts/${LOCATION}`)).body.nickname).toBe('Dr. Ruiz');
    expect((await api('put', `/api/sub-accounts/${LOCATION}/nickname`, { nickname: ' ' }).expect(200)).body.nickname).toBeNull();
  });
});
