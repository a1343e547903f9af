/* The Chinese edition's search box splits a query into words the way the search index was split.

   At build time Sphinx cuts the Chinese text of every page into words with jieba (tools/i18n.py gives it the
   glossary's terms as words), and keeps only the words of two or more characters. Sphinx's searchtools.js
   cuts a query only at spaces and punctuation, so a phrase typed without spaces ("为什么要减去最大值") is one
   long "word" that the index does not hold, and nothing is found.

   This file is loaded before searchtools.js on the Chinese search page. It defines `splitQuery`, which
   searchtools.js (Sphinx 7.4) uses instead of its own when one is already defined. Each run of Chinese
   characters is cut by forward maximum matching against the index's own words (its terms and title terms):
   from the left, the longest indexed word that starts here; a character that starts no indexed word (a
   stop word such as 的 or 要, never indexed alone) is dropped. Everything else (Latin words, numbers) is split
   exactly as Sphinx splits it. */
var splitQuery = (function () {
  "use strict";
  const HAN = /(\p{Script=Han}+)/u;
  const IS_HAN = /^\p{Script=Han}+$/u;
  let indexed = null; // the index these words came from, and its Chinese words
  let words = new Set();
  let longest = 1;

  function chineseWords() {
    const index = typeof Search !== "undefined" ? Search._index : null;
    if (index && index !== indexed) {
      indexed = index;
      words = new Set();
      longest = 1;
      for (const table of [index.terms, index.titleterms]) {
        for (const word of Object.keys(table || {})) {
          if (/\p{Script=Han}/u.test(word)) {
            words.add(word);
            longest = Math.max(longest, word.length);
          }
        }
      }
    }
    return words;
  }

  function segment(run) {
    const known = chineseWords();
    const found = [];
    let i = 0;
    while (i < run.length) {
      let n = Math.min(longest, run.length - i);
      while (n > 1 && !known.has(run.slice(i, i + n))) n -= 1;
      if (n > 1) {
        found.push(run.slice(i, i + n));
        i += n;
      } else {
        i += 1; // a character that is no indexed word by itself
      }
    }
    // Nothing indexed at all: keep the run, so that Sphinx can still try it as part of a longer word.
    return found.length ? found : [run];
  }

  return function splitQuery(query) {
    const terms = [];
    // Sphinx's own split first (searchtools.js): at every character that is not a letter, digit, _ or emoji.
    for (const piece of query.split(/[^\p{Letter}\p{Number}_\p{Emoji_Presentation}]+/gu)) {
      for (const part of piece.split(HAN)) {
        if (!part) continue;
        if (IS_HAN.test(part)) terms.push(...segment(part));
        else terms.push(part);
      }
    }
    return terms;
  };
})();
