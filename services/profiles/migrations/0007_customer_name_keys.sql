-- Name search without a scan (issue 23): every prefix of up to 6 characters of every word of a
-- findable customer's folded names (customers.search_name), one row per (key, customer). A
-- query word is looked up by equality on its first 6 characters, so PostgreSQL's collation
-- never decides a match and each key's customers come out in id order for keyset paging.
-- Written in the same transaction as every change of a name or status (store/customers.rs);
-- merged and erased customers have none. domain/names.rs `name_keys` is the same rule in Rust.
CREATE TABLE customer_name_keys (
    name_key TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (customer_id),
    PRIMARY KEY (name_key, customer_id)
);

-- Backfill from the folded names already stored: portable SQL (substr and length count
-- characters on both backends). A key starts where a word starts and holds no space; the
-- 1..6-character prefixes a short word repeats at the end of the name collapse under DISTINCT.
INSERT INTO customer_name_keys (name_key, customer_id)
WITH RECURSIVE positions (customer_id, search_name, position) AS (
    SELECT customer_id, search_name, 1 FROM customers
    WHERE status IN ('active', 'closed') AND search_name <> ''
    UNION ALL
    SELECT customer_id, search_name, position + 1 FROM positions
    WHERE position < length(search_name)
),
lengths (n) AS (
    SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5
    UNION ALL SELECT 6
)
SELECT DISTINCT substr(p.search_name, p.position, l.n), p.customer_id
FROM positions p CROSS JOIN lengths l
WHERE substr(p.search_name, p.position, 1) <> ' '
  AND (p.position = 1 OR substr(p.search_name, p.position - 1, 1) = ' ')
  AND substr(p.search_name, p.position, l.n) NOT LIKE '% %';
-- Names in scripts written without spaces (Han, kana, Hangul, Thai, ...) also have keys starting
-- at every character in the Rust rule; SQL cannot tell those scripts apart portably, so such a
-- name stored before this migration is found from its first character until its next write
-- completes its keys (store/customers.rs `write_name_keys`).
