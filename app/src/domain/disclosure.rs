//! Small-cell suppression for published counts: a count of 1–4 people is shown as "<5", and
//! when a row of cells is published with its total, no suppressed cell may be recomputed from
//! the others (complementary suppression).

use serde::{Deserialize, Serialize};

/// The fewest people a published cell shows.
pub const SMALL: u64 = 5;

/// A published count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cell {
    /// Shown as is (0, or 5 and more).
    Count(u64),
    /// 1–4 people: shown as "<5".
    Small,
    /// Hidden so that a small cell of the same row cannot be worked out from the total.
    Hidden,
}

impl Cell {
    /// The count when shown.
    pub fn count(self) -> Option<u64> {
        match self {
            Cell::Count(n) => Some(n),
            Cell::Small | Cell::Hidden => None,
        }
    }
}

/// How a published count reads (screens and the agency API): the count, "<5", or "*" when
/// hidden.
pub fn shown(c: Cell) -> String {
    match c {
        Cell::Count(n) => n.to_string(),
        Cell::Small => "<5".to_owned(),
        Cell::Hidden => "*".to_owned(),
    }
}

/// One count on its own (no total published beside it).
pub fn one(n: u64) -> Cell {
    if (1..SMALL).contains(&n) {
        Cell::Small
    } else {
        Cell::Count(n)
    }
}

/// The cells of a row published with their total (returned last). Cells of 1–4 become
/// [`Cell::Small`]; when exactly one is small, the smallest other non-zero cell is hidden too,
/// since the total minus the shown cells would give it away (two or more small cells only give
/// their sum, itself a range). When every other cell is zero, the total is the small count
/// itself and is shown as "<5" too.
pub fn row(counts: &[u64]) -> (Vec<Cell>, Cell) {
    let mut cells: Vec<Cell> = counts.iter().map(|&n| one(n)).collect();
    let small = cells.iter().filter(|c| **c == Cell::Small).count();
    if small == 1
        && let Some(partner) = counts
            .iter()
            .enumerate()
            .filter(|&(_, &n)| n >= SMALL)
            .min_by_key(|&(i, &n)| (n, i))
            .map(|(i, _)| i)
    {
        cells[partner] = Cell::Hidden;
    }
    (cells, one(counts.iter().sum()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_one_to_four_are_small_and_zero_is_shown() {
        assert_eq!(one(0), Cell::Count(0));
        for n in 1..5 {
            assert_eq!(one(n), Cell::Small);
        }
        assert_eq!(one(5), Cell::Count(5));
    }

    #[test]
    fn a_lone_small_cell_takes_the_smallest_other_with_it() {
        let (cells, total) = row(&[40, 3, 9, 0, 12]);
        assert_eq!(
            cells,
            vec![
                Cell::Count(40),
                Cell::Small,
                Cell::Hidden,
                Cell::Count(0),
                Cell::Count(12)
            ]
        );
        assert_eq!(total, Cell::Count(64));
        // Shown cells and the total leave 3 + 9 = 12 split between two cells: not exact.
    }

    #[test]
    fn two_small_cells_protect_each_other() {
        let (cells, total) = row(&[40, 3, 2, 9]);
        assert_eq!(
            cells,
            vec![Cell::Count(40), Cell::Small, Cell::Small, Cell::Count(9)]
        );
        assert_eq!(total, Cell::Count(54));
    }

    #[test]
    fn without_a_partner_the_total_is_small_too() {
        assert_eq!(
            row(&[0, 3, 0]),
            (
                vec![Cell::Count(0), Cell::Small, Cell::Count(0)],
                Cell::Small
            )
        );
        assert_eq!(row(&[]), (vec![], Cell::Count(0)));
        assert_eq!(
            row(&[7, 0]),
            (vec![Cell::Count(7), Cell::Count(0)], Cell::Count(7))
        );
    }
}
