import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatColumns, formatKeyValue, formatValue, humanDuration, keyValueHeaderWidth, sectionHeader } from './format.ts';

describe('formatKeyValue', () => {
  it('aligns values four spaces after the longest key under a Key/Value header', () => {
    const out = formatKeyValue([
      ['Recovery Seal Type', 'shamir'],
      ['Initialized', true],
      ['Sealed', false],
      ['Total Recovery Shares', 1],
      ['Threshold', 1],
    ]);
    assert.equal(
      out,
      [
        'Key                      Value',
        '---                      -----',
        'Recovery Seal Type       shamir',
        'Initialized              true',
        'Sealed                   false',
        'Total Recovery Shares    1',
        'Threshold                1',
      ].join('\n'),
    );
  });

  it('prints empty values as n/a and can omit the header', () => {
    assert.equal(formatKeyValue([['Key Term', 3], ['Install Time', '']], false), 'Key Term        3\nInstall Time    n/a');
  });
});

describe('formatColumns', () => {
  it('underlines each header word with dashes of its own length', () => {
    const out = formatColumns([['secret/', 'kv', 'kv_1234', 'key/value secret storage']], ['Path', 'Type', 'Accessor', 'Description']);
    assert.equal(
      out,
      [
        'Path       Type    Accessor    Description',
        '----       ----    --------    -----------',
        'secret/    kv      kv_1234     key/value secret storage',
      ].join('\n'),
    );
  });
});

describe('formatValue', () => {
  it('renders values the way Go prints them in Vault tables', () => {
    assert.equal(formatValue(['default', 'root']), '[default root]');
    assert.equal(formatValue({ b: 1, a: 'x' }), 'map[a:x b:1]');
    assert.equal(formatValue(null), '<nil>');
    assert.equal(formatValue(false), 'false');
  });
});

describe('humanDuration', () => {
  it('drops zero minute and second tails like Vault', () => {
    assert.equal(humanDuration(2764800), '768h');
    assert.equal(humanDuration(5400), '1h30m');
    assert.equal(humanDuration(3605), '1h5s');
    assert.equal(humanDuration(45), '45s');
    assert.equal(humanDuration(0), '0s');
  });
});

describe('sectionHeader', () => {
  it('sizes the header to the table like Vault (longest key + gap + "Value")', () => {
    assert.equal(sectionHeader('Metadata', keyValueHeaderWidth(['created_time', 'custom_metadata', 'version'])), '======= Metadata =======');
    assert.equal(sectionHeader('Data', keyValueHeaderWidth(['passcode'])), '====== Data ======');
  });

  it('sizes a path header to the path, falling back to two signs a side when the path is shorter', () => {
    assert.equal(sectionHeader('Secret Path', 'secret/data/creds'.length), '== Secret Path ==');
    assert.equal(sectionHeader('Secret Path', 3), '== Secret Path ==');
  });
});
