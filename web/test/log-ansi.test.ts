import { h } from 'vue';
import { renderToString } from 'vue/server-renderer';
import { describe, expect, it } from 'vitest';
import { ansiSegments, markRanges, matchRanges, plainText } from '../src/logs/ansi';
import { LogLineText } from '../src/logs/log-line-text';

const render = (text: string, ranges?: [number, number][]) =>
  renderToString(h(LogLineText, { text, ranges }));

describe('ANSI codes in log lines', () => {
  it('turns SGR codes into styled segments and drops the codes from the text', () => {
    const line =
      'ok \u001b[31mred\u001b[0m \u001b[1;38;5;208mbold orange\u001b[22;39m \u001b[4;48;2;1;2;3mtrue\u001b[0m';
    expect(ansiSegments(line)).toEqual([
      { text: 'ok ' },
      { text: 'red', style: { color: 'rgb(187, 0, 0)' } },
      { text: ' ' },
      { text: 'bold orange', style: { color: 'rgb(255, 135, 0)', fontWeight: '700' } },
      { text: ' ' },
      { text: 'true', style: { backgroundColor: 'rgb(1, 2, 3)', textDecoration: 'underline' } },
    ]);
    expect(plainText(line)).toBe('ok red bold orange true');
  });

  it('escapes markup in the text, styled or not', async () => {
    const html = await render(
      '<img src=x onerror=alert(1)> \u001b[32m<script>alert("x")</script>&amp;\u001b[0m',
    );
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; ');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;amp;');
    expect(html).toContain('<span style="color:rgb(0, 187, 0);">');
  });

  it('keeps a malformed colour code out of the style', async () => {
    const html = await render('\u001b[38;2;1;2;3);background:url(//evil)m text');
    expect(html).not.toMatch(/style=/);
    expect(html).not.toContain('url(//evil)"');
  });

  it('drops OSC sequences and unprintable control characters, keeps tabs', () => {
    const line = '\u001b]8;;https://example.com\u0007link\u001b]8;;\u0007\tbell\u0007 back\u0008';
    expect(plainText(line)).toBe('link\tbell back');
    expect(ansiSegments(line)).toEqual([{ text: 'link\tbell back' }]);
  });

  it('shows what follows the last carriage return, as a terminal does with a progress bar', () => {
    expect(plainText('10%\r50%\r100%\r')).toBe('100%');
    expect(ansiSegments('10%\r\u001b[32mdone\u001b[0m')).toEqual([
      { text: 'done', style: { color: 'rgb(0, 187, 0)' } },
    ]);
  });

  it('does not carry a colour left open into the next line', () => {
    expect(ansiSegments('\u001b[31mopen')[0]!.style).toEqual({ color: 'rgb(187, 0, 0)' });
    expect(ansiSegments('next')).toEqual([{ text: 'next' }]);
  });
});

describe('search matches in a line', () => {
  it('finds every occurrence, ignoring case, without overlaps', () => {
    expect(matchRanges('Error: error ERRORerror', 'error')).toEqual([
      [0, 5],
      [7, 12],
      [13, 18],
      [18, 23],
    ]);
    expect(matchRanges('aaaa', 'aa')).toEqual([
      [0, 2],
      [2, 4],
    ]);
    expect(matchRanges('anything', '')).toEqual([]);
  });

  it('marks matches across segment boundaries, keeping each piece’s style', () => {
    const segments = ansiSegments('ab\u001b[31mcd\u001b[0mef');
    const marked = markRanges(segments, matchRanges(plainText('ab\u001b[31mcd\u001b[0mef'), 'bcde'));
    expect(marked).toEqual([
      { text: 'a' },
      { text: 'b', mark: true },
      { text: 'cd', style: { color: 'rgb(187, 0, 0)' }, mark: true },
      { text: 'e', mark: true },
      { text: 'f' },
    ]);
  });

  it('renders matches as <mark>, still escaped', async () => {
    expect(await render('say <b>hi</b> hi', matchRanges('say <b>hi</b> hi', 'HI'))).toBe(
      '<!--[--><span>say &lt;b&gt;</span><mark>hi</mark><span>&lt;/b&gt; </span><mark>hi</mark><!--]-->',
    );
  });
});
