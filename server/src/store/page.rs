//! Pagination parameters and results shared by every list operation.

/// Sort direction by creation (insertion) order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Oldest first.
    Asc,
    /// Newest first; OpenAI's default.
    #[default]
    Desc,
}

/// A validated list request: `limit` 1-100, `order`, and the `after`/`before` cursors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Page size, 1-100.
    pub limit: u32,
    /// Direction of the listing.
    pub order: Order,
    /// Only items that come after this id in `order`.
    pub after: Option<String>,
    /// Only items that come before this id in `order`.
    pub before: Option<String>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            order: Order::Desc,
            after: None,
            before: None,
        }
    }
}

/// OpenAI's default page size.
pub const DEFAULT_LIMIT: u32 = 20;
/// OpenAI's largest page size.
pub const MAX_LIMIT: u32 = 100;

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// Items in the requested order.
    pub items: Vec<T>,
    /// Whether more items exist beyond this page in the direction of travel.
    pub has_more: bool,
}

/// How a backend should walk its insertion sequence for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Walk {
    /// Walk the sequence downwards (newest first) when fetching rows.
    pub fetch_descending: bool,
    /// Reverse the fetched rows before answering (used by `before` cursors).
    pub reverse_after_fetch: bool,
}

impl PageRequest {
    /// The walk for this request. A `before` cursor alone fetches the rows nearest
    /// the cursor first and flips them back into `order`.
    pub fn walk(&self) -> Walk {
        let descending = self.order == Order::Desc;
        if self.before.is_some() && self.after.is_none() {
            Walk {
                fetch_descending: !descending,
                reverse_after_fetch: true,
            }
        } else {
            Walk {
                fetch_descending: descending,
                reverse_after_fetch: false,
            }
        }
    }

    /// Cuts `rows` (fetched with `limit + 1`) down to a page and puts it in `order`.
    pub fn finish<T>(&self, mut rows: Vec<T>) -> Page<T> {
        let has_more = rows.len() > self.limit as usize;
        rows.truncate(self.limit as usize);
        if self.walk().reverse_after_fetch {
            rows.reverse();
        }
        Page {
            items: rows,
            has_more,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn request(order: Order, after: bool, before: bool) -> PageRequest {
        PageRequest {
            limit: 2,
            order,
            after: after.then(|| "a".to_owned()),
            before: before.then(|| "b".to_owned()),
        }
    }

    #[rstest]
    #[case(Order::Desc, false, false, true, false)]
    #[case(Order::Asc, false, false, false, false)]
    #[case(Order::Desc, true, false, true, false)]
    #[case(Order::Desc, false, true, false, true)]
    #[case(Order::Asc, false, true, true, true)]
    #[case(Order::Asc, true, true, false, false)]
    fn walks(
        #[case] order: Order,
        #[case] after: bool,
        #[case] before: bool,
        #[case] fetch_descending: bool,
        #[case] reverse_after_fetch: bool,
    ) {
        assert_eq!(
            request(order, after, before).walk(),
            Walk {
                fetch_descending,
                reverse_after_fetch
            }
        );
    }

    #[rstest]
    #[case(vec![1, 2, 3], vec![1, 2], true)]
    #[case(vec![1, 2], vec![1, 2], false)]
    #[case(vec![], vec![], false)]
    fn finish_cuts_to_limit(
        #[case] rows: Vec<i32>,
        #[case] page: Vec<i32>,
        #[case] has_more: bool,
    ) {
        let finished = request(Order::Desc, false, false).finish(rows);
        assert_eq!(
            finished,
            Page {
                items: page,
                has_more
            }
        );
    }

    #[test]
    fn finish_flips_before_pages_back_into_order() {
        let finished = request(Order::Desc, false, true).finish(vec![5, 6, 7]);
        assert_eq!(
            finished,
            Page {
                items: vec![6, 5],
                has_more: true
            }
        );
    }

    #[test]
    fn defaults_are_openai_defaults() {
        let default = PageRequest::default();
        assert_eq!((default.limit, default.order), (20, Order::Desc));
    }
}
