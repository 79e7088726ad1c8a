//! What this server read from the database within the last second, kept so that a busy client's
//! repeated reads cost the database nothing for that second.
//!
//! The rules every user of it follows:
//! - An entry is served for `TRUST_FOR` after it was read, never longer.
//! - A change this server commits calls `forget_all` after its commit, so the next read here sees
//!   it. A change made elsewhere (another replica, the command line) is seen within `TRUST_FOR`.
//! - A read that began before a `forget_all` must not be kept after it: take `generation` before
//!   reading the database, hand it to `put`, which drops the entry if a `forget_all` came between.
//! - The map holds at most `max_weight` (entries, or items for a list); past it, stale entries go,
//!   then everything, so a flood of distinct keys cannot grow it.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a value read from the database is taken on trust without asking again.
pub const TRUST_FOR: Duration = Duration::from_secs(1);

pub struct Recent<K, V> {
    entries: Mutex<Entries<K, V>>,
    max_weight: usize,
}

struct Entries<K, V> {
    map: HashMap<K, Entry<V>>,
    weight: usize,
    /// Counts `forget_all` calls (see the module's rules).
    generation: u64,
}

struct Entry<V> {
    value: V,
    weight: usize,
    read: Instant,
}

impl<K: Hash + Eq, V: Clone> Recent<K, V> {
    pub fn new(max_weight: usize) -> Recent<K, V> {
        let entries = Entries { map: HashMap::new(), weight: 0, generation: 0 };
        Recent { entries: Mutex::new(entries), max_weight }
    }

    /// The value read within `TRUST_FOR`, if any.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let entries = self.lock();
        let entry = entries.map.get(key)?;
        (entry.read.elapsed() < TRUST_FOR).then(|| entry.value.clone())
    }

    /// Take before reading the database; give to `put` after.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Keeps a value read from the database, unless a `forget_all` came since `generation`.
    /// `weight` is what it counts against the bound: 1 for one record, its length for a list.
    pub fn put(&self, key: K, value: V, weight: usize, generation: u64) {
        if weight > self.max_weight {
            return;
        }
        let mut entries = self.lock();
        if entries.generation != generation {
            return;
        }
        if entries.weight + weight > self.max_weight {
            entries.map.retain(|_, entry| entry.read.elapsed() < TRUST_FOR);
            entries.weight = entries.map.values().map(|entry| entry.weight).sum();
            if entries.weight + weight > self.max_weight {
                entries.map.clear();
                entries.weight = 0;
            }
        }
        let entry = Entry { value, weight, read: Instant::now() };
        if let Some(replaced) = entries.map.insert(key, entry) {
            entries.weight -= replaced.weight;
        }
        entries.weight += weight;
    }

    /// Something this server just committed may change what was kept: none of it may be served.
    pub fn forget_all(&self) {
        let mut entries = self.lock();
        entries.generation += 1;
        entries.map.clear();
        entries.weight = 0;
    }

    /// How much is kept, counted as `put` counts it.
    pub fn weight(&self) -> usize {
        self.lock().weight
    }

    fn lock(&self) -> MutexGuard<'_, Entries<K, V>> {
        // The map holds no invariant a panicking holder could break halfway.
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_served_for_a_second_then_read_again() {
        let recent = Recent::new(10);
        recent.put("k", 7, 1, recent.generation());
        assert_eq!(recent.get(&"k"), Some(7));
        assert_eq!(recent.get(&"other"), None);
        std::thread::sleep(TRUST_FOR + Duration::from_millis(50));
        assert_eq!(recent.get(&"k"), None, "older than TRUST_FOR");
    }

    #[test]
    fn a_read_from_before_a_forget_is_not_kept_after_it() {
        let recent = Recent::new(10);
        let before_the_read = recent.generation();
        recent.forget_all(); // a change commits while the database is being read
        recent.put("k", 1, 1, before_the_read);
        assert_eq!(recent.get(&"k"), None);
        recent.put("k", 2, 1, recent.generation());
        assert_eq!(recent.get(&"k"), Some(2), "a read after it is kept");
        recent.forget_all();
        assert_eq!(recent.get(&"k"), None, "forgetting drops what was kept");
        assert_eq!(recent.weight(), 0);
    }

    #[test]
    fn the_weight_stays_within_its_bound() {
        let recent = Recent::new(10);
        for i in 0..25 {
            recent.put(i, i, 3, 0);
            assert!(recent.weight() <= 10, "weight {} after {i}", recent.weight());
        }
        assert_eq!(recent.get(&24), Some(24), "the newest is kept");
        recent.put(99, 99, 11, 0);
        assert_eq!(recent.get(&99), None, "heavier than the whole bound: never kept");
        recent.put(24, 0, 1, 0);
        assert_eq!(recent.get(&24), Some(0), "a key read again replaces its value");
        assert!(recent.weight() <= 10);
    }
}
