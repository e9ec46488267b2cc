import { htmlReport } from '../../../local/rehearsal/html';
import { summary } from '../../../local/rehearsal/summary';
import { surfaceRows } from '../../../local/rehearsal/surface-reads';
import { reportFixture } from './report-fixture';

const extra = {
  deadLetters: 0,
  'surface.email.reads.bounded': 12,
  'surface.email.reads.strong': 9,
  'surface.email.served.legacy': 15,
  'surface.email.served.new': 6,
  'surface.email.pages': 21,
  'surface.email.compared': 8,
  'surface.email.mismatches': 1,
  'surface.email.errors': 0,
  'surface.base.pages': 3,
};

describe('Function: surfaceRows', () => {
  it('gives back one row per surface from the flat report extras, sorted by name', () => {
    // Act
    const rows = surfaceRows(extra);

    // Assess
    expect(rows).toEqual([
      {
        surface: 'base',
        pages: 3,
        reads: 'none',
        fromLegacy: 0,
        fromNew: 0,
        compared: 0,
        mismatches: 0,
        errors: 0,
      },
      {
        surface: 'email',
        pages: 21,
        reads: 'bounded 12, strong 9',
        fromLegacy: 15,
        fromNew: 6,
        compared: 8,
        mismatches: 1,
        errors: 0,
      },
    ]);
  });

  it('puts the surfaces in the terminal summary and the HTML report, and nothing when there are none', () => {
    // Prepare
    const r = { ...reportFixture(), extra };

    // Act
    const text = summary(r);
    const html = htmlReport(r);

    // Assess
    expect(text).toMatch(/email\s+│?\s*21\s+│?\s*bounded 12, strong 9/);
    expect(html).toContain('<h2>Query surfaces</h2>');
    expect(html).toContain(
      '<td>email</td><td>21</td><td>bounded 12, strong 9</td><td>15</td><td>6</td><td>8</td><td>1</td>',
    );
    expect(summary(reportFixture())).not.toMatch(/reads by mode/);
    expect(htmlReport(reportFixture())).not.toContain('Query surfaces');
  });
});
