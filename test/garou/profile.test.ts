import t from 'tap';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { checkProfile, defaultProfile, fastProfile, profileSchema } from '../../suites/garou/profile.js';

const validate = new Ajv2020({ allErrors: true, strict: true }).compile(profileSchema);

t.test('the default and fast profiles fit the schema and are consistent', async (t) => {
  for (const [name, p] of [['default', defaultProfile], ['fast', fastProfile]] as const) {
    t.ok(validate(p), `${name} fits the schema ${JSON.stringify(validate.errors)}`);
    t.same(checkProfile(p), [], `${name} is consistent`);
  }
  t.same(Object.keys(defaultProfile).sort(), Object.keys((profileSchema as { properties: object }).properties).filter((k) => k !== '$schema').sort(), 'the schema lists every field');
});

t.test('the schema and checkProfile reject wrong profiles, naming the field', async (t) => {
  t.notOk(validate({ numShards: 256 }), 'a shard index is a u8');
  t.notOk(validate({ badPayload: 'ignore' }), 'readings are enums');
  t.notOk(validate({ userRoles: { bob: 'owner' } }), 'nobody is owner by directory');
  t.notOk(validate({ hotThresold: 5 }), 'a misspelt field');
  t.match(checkProfile({ ...defaultProfile, coldThreshold: 100 }), [/coldThreshold/]);
  t.match(checkProfile({ ...defaultProfile, toleranceMs: 5000 }), [/toleranceMs.*handshakeTimeoutMs/, /toleranceMs.*replyDeadlineMs/]);
  t.match(checkProfile({ ...defaultProfile, maxBodyBytes: 2 ** 21 }), [/maxBodyBytes/]);
});
