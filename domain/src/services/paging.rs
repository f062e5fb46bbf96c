//! Keyset pagination, shared by every listing: a query fetches one row
//! more than the page holds, and the last row shown names the next page.
//! Unlike offsets, every page costs what the first does and stays stable
//! while rows are added.

/// The rows a listing asks for: the page plus one that tells whether
/// another page follows.
pub(crate) fn fetch_count(limit: u64) -> u64 {
    limit.saturating_add(1)
}

/// Splits the rows of a [`fetch_count`] query into the page and the cursor
/// of the next page (`None` on the last one).
pub(crate) fn keyset_page<T, C>(mut rows: Vec<T>, limit: u64, cursor_of: impl Fn(&T) -> C) -> (Vec<T>, Option<C>) {
    let has_more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = if has_more { rows.last().map(cursor_of) } else { None };
    (rows, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_page_names_the_next_and_the_last_page_does_not() {
        assert_eq!(keyset_page(vec![5, 4, 3], 2, |row| *row), (vec![5, 4], Some(4)));
        assert_eq!(keyset_page(vec![5, 4], 2, |row| *row), (vec![5, 4], None));
        assert_eq!(keyset_page(Vec::<i32>::new(), 2, |row| *row), (vec![], None));
        assert_eq!(fetch_count(u64::MAX), u64::MAX);
    }
}
