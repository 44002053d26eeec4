//! Many rows in one statement: every statement is a round trip to PostgreSQL and a turn of
//! SQLite's writer (issue 23). A batch is cut into [`CHUNKS`] sizes (the binary digits of its
//! length), so a handful of prepared statements serve every batch size; only placeholders are
//! formatted into the SQL, never values.

/// Rows per multi-row statement.
pub const CHUNKS: [usize; 6] = [32, 16, 8, 4, 2, 1];

/// `count` parenthesised rows of `columns` placeholders, numbered from `first`:
/// `placeholders(2, 2, 1)` is `($1, $2), ($3, $4)`.
pub fn placeholders(count: usize, columns: usize, first: usize) -> String {
    (0..count)
        .map(|row| {
            let numbers: Vec<String> = (0..columns)
                .map(|column| format!("${}", first + row * columns + column))
                .collect();
            format!("({})", numbers.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `items` cut into the sizes of [`CHUNKS`], in order.
pub fn chunked<T>(items: &[T]) -> Vec<&[T]> {
    let mut chunks = Vec::new();
    let mut rest = items;
    for size in CHUNKS {
        while rest.len() >= size {
            let (chunk, tail) = rest.split_at(size);
            chunks.push(chunk);
            rest = tail;
        }
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_numbered_from_the_first_placeholder() {
        assert_eq!(placeholders(2, 2, 1), "($1, $2), ($3, $4)");
        assert_eq!(placeholders(1, 3, 2), "($2, $3, $4)");
    }

    #[test]
    fn a_batch_is_cut_into_its_binary_digits_in_order() {
        let items: Vec<usize> = (0..45).collect();
        let chunks = chunked(&items);
        let sizes: Vec<usize> = chunks.iter().map(|c| c.len()).collect();
        assert_eq!(sizes, [32, 8, 4, 1]);
        assert_eq!(chunks.concat(), items);
    }
}
