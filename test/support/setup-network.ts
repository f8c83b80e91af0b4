import nock from 'nock';

// Only HTTP to HighLevel and Stripe is faked; anything else leaving the machine is a test bug.
nock.disableNetConnect();
nock.enableNetConnect((host) => host.startsWith('127.0.0.1') || host.startsWith('localhost') || host.startsWith('[::1]'));

afterAll(() => {
  nock.cleanAll();
  nock.restore();
});
