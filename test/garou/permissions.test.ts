import t from 'tap';
import { actionOf, permitted, refusal, type Action } from '../../suites/garou/permissions.js';
import { ROLES, type RoomType } from '../../suites/garou/frames.js';
import { defaultProfile } from '../../suites/garou/profile.js';

// SPEC GAROU-6.4, written out again as the oracle: roles in the order owner, admin, moderator, member, guest.
const table: [Action, RoomType, string][] = [
  ['post', 'direct', '✓✓✓✓✗'],
  ['post', 'group', '✓✓✓✓✗'],
  ['post', 'channel', '✓✓✓✗✗'],
  ['edit-own', 'direct', '✓✓✓✓✗'],
  ['edit-own', 'group', '✓✓✓✓✗'],
  ['edit-own', 'channel', '✓✓✓✗✗'],
  ['delete-own', 'group', '✓✓✓✓✗'],
  ['delete-own', 'channel', '✓✓✓✓✗'],
  ['delete-own', 'direct', '✓✓✓✓✗'],
  ['delete-other', 'group', '✓✓✓✗✗'],
  ['delete-other', 'channel', '✓✓✓✗✗'],
  ['delete-other', 'direct', '✗✗✗✗✗'],
  ['react', 'group', '✓✓✓✓✗'],
  ['react', 'channel', '✓✓✓✓✗'],
  ['react', 'direct', '✓✓✓✓✗'],
  ['join', 'group', '✓✓✓✓✓'],
  ['join', 'channel', '✓✓✓✓✓'],
  ['join', 'direct', '✗✗✗✗✗'],
  ['leave', 'direct', '✓✓✓✓✓'],
  ['leave', 'group', '✓✓✓✓✓'],
  ['leave', 'channel', '✓✓✓✓✓'],
  ['create', 'group', '✗✓✓✓✗'],
  ['create', 'direct', '✗✓✓✓✗'],
  ['create', 'channel', '✗✓✓✓✗'],
];

t.test('the permission table of GAROU-6.4, cell by cell', async (t) => {
  for (const [action, type, cells] of table) {
    [...cells].forEach((c, i) => {
      t.equal(permitted(action, type, ROLES[i]!, defaultProfile), c === '✓', `${action} in ${type} as ${ROLES[i]}`);
    });
  }
});

t.test('guests react only when the profile says so', async (t) => {
  t.equal(permitted('react', 'group', 'guest', { guestsMayReact: true }), true);
  t.equal(permitted('react', 'channel', 'guest', { guestsMayReact: false }), false);
  t.equal(permitted('post', 'group', 'guest', { guestsMayReact: true }), false, 'reacting is not posting');
});

t.test('commands map to actions; editing another\'s message is never allowed', async (t) => {
  t.equal(actionOf('SendMessage'), 'post');
  t.equal(actionOf('UploadStart'), 'post');
  t.equal(actionOf('EditMessage', true), 'edit-own');
  t.equal(actionOf('EditMessage', false), undefined);
  for (const r of ROLES) t.equal(permitted(actionOf('EditMessage', false), 'group', r, defaultProfile), false, `edit another's as ${r}`);
  t.equal(actionOf('DeleteMessage', false), 'delete-other');
  t.equal(actionOf('RemoveReaction'), 'react');
  t.equal(actionOf('JoinRoom'), 'join');
  t.equal(actionOf('LeaveRoom'), 'leave');
  t.equal(actionOf('CreateRoom'), 'create');
});

t.test('refusals follow the order of GAROU-5.5', async (t) => {
  const all = { badRequest: true, rateLimited: true, roomFound: false, member: false, targetFound: false, permitted: false };
  t.equal(refusal(all), 'BAD_REQUEST');
  t.equal(refusal({ ...all, badRequest: false }), 'RATE_LIMITED');
  t.equal(refusal({ ...all, badRequest: false, rateLimited: false }), 'NOT_FOUND');
  t.equal(refusal({ ...all, badRequest: false, rateLimited: false, roomFound: true }), 'NOT_A_MEMBER');
  t.equal(refusal({ ...all, badRequest: false, rateLimited: false, roomFound: true, member: true }), 'NOT_FOUND');
  t.equal(refusal({ ...all, badRequest: false, rateLimited: false, roomFound: true, member: true, targetFound: true }), 'FORBIDDEN');
  t.equal(refusal({ badRequest: false, rateLimited: false, roomFound: true, member: true, targetFound: true, permitted: true }), undefined);
  t.equal(refusal({ badRequest: false, rateLimited: false, roomFound: true, permitted: true }), undefined, 'JoinRoom: no membership or target asked');
  t.equal(refusal({ badRequest: false, rateLimited: false, permitted: false }), 'FORBIDDEN', 'CreateRoom by a guest');
});
