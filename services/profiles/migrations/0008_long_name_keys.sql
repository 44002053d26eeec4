-- Longer name keys (issue 23): besides every prefix of up to 6 characters (migration 7), every
-- word's prefixes of exactly 8 and 12 characters, so that a long query word is looked up by a
-- long key (domain/names.rs `LONG_KEY_CHARS`, `name_keys`, `query_key`). Backfilled from the
-- folded names already stored, in the same portable SQL as migration 7: a key starts where a
-- word starts and holds no space; the same word twice in a name collapses under DISTINCT.
INSERT INTO customer_name_keys (name_key, customer_id)
WITH RECURSIVE positions (customer_id, search_name, position) AS (
    SELECT customer_id, search_name, 1 FROM customers
    WHERE status IN ('active', 'closed') AND search_name <> ''
    UNION ALL
    SELECT customer_id, search_name, position + 1 FROM positions
    WHERE position < length(search_name)
),
lengths (n) AS (
    SELECT 8 UNION ALL SELECT 12
)
SELECT DISTINCT substr(p.search_name, p.position, l.n), p.customer_id
FROM positions p CROSS JOIN lengths l
WHERE substr(p.search_name, p.position, 1) <> ' '
  AND (p.position = 1 OR substr(p.search_name, p.position - 1, 1) = ' ')
  AND length(substr(p.search_name, p.position, l.n)) = l.n
  AND substr(p.search_name, p.position, l.n) NOT LIKE '% %';
