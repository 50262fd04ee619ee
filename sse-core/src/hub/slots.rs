//! [`Slots`]: values kept at stable indices, reused after removal.

/// A slab: insert gives an index that stays valid until removed; freed
/// indices are reused, and the memory is given back once most have left.
#[derive(Debug)]
pub(crate) struct Slots<T> {
    slots: Vec<Option<T>>,
    free: Vec<usize>,
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<T> Slots<T> {
    pub(crate) fn insert(&mut self, value: Option<T>) -> usize {
        match self.free.pop() {
            Some(index) => {
                self.slots[index] = value;
                index
            }
            None => {
                self.slots.push(value);
                self.slots.len() - 1
            }
        }
    }

    /// Frees `index`, returning what it held.
    pub(crate) fn remove(&mut self, index: usize) -> Option<T> {
        let value = self.slots.get_mut(index)?.take();
        self.free.push(index);
        if self.free.len() == self.slots.len() && self.slots.capacity() > 64 {
            self.slots = Vec::new();
            self.free = Vec::new();
        }
        value
    }

    pub(crate) fn get_mut(&mut self, index: usize) -> Option<&mut Option<T>> {
        self.slots.get_mut(index)
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_are_stable_and_reused() {
        let mut slots = Slots::default();
        let a = slots.insert(Some("a"));
        let b = slots.insert(Some("b"));
        assert_eq!(slots.remove(a), Some("a"));
        assert_eq!(slots.values().copied().collect::<Vec<_>>(), ["b"]);
        assert_eq!(slots.insert(Some("c")), a);
        assert_eq!(slots.remove(b), Some("b"));
        assert_eq!(slots.remove(99), None);
    }
}
