//! Index rebuild: an index is derived from its bucket, so it can always be
//! recomputed: after a change to how terms are derived, or to repair one
//! that [`check`](super::check) found inconsistent.

use vpack::Blank;

use super::{Progress, Reporter};
use crate::bucket::Bucket;
use crate::db::Db;
use crate::error::Error;
use crate::index::{Index, set_target_terms};
use crate::scan::tx_write_batches;

/// Clears `index` and rebuilds it from every entry of `bucket`: `terms`
/// gives the (term, priority) pairs of one entry. Works in transactions of
/// `batch_size` entries; returns the number of entries indexed.
///
/// Readers see the index grow batch by batch while the rebuild runs (the
/// clearing commits first). If it is interrupted, run it again: it starts
/// over from an empty index, so it is safe to repeat.
///
/// ```
/// use vbolt::*;
/// #[derive(Default, Clone)]
/// struct Post { tags: Vec<String> }
/// fn pack_post(p: &mut Post, buf: &mut vpack::Buffer) {
///     vpack::version(1, buf);
///     vpack::vec(&mut p.tags, buf, vpack::string);
/// }
/// static POSTS: Bucket<u32, Post> = Bucket::new("posts", vpack::key::fuint(), pack_post);
/// static BY_TAG: Index<String, u32> = Index::new("posts_by_tag", vpack::key::string_z(), vpack::key::fuint());
///
/// let db = Db::in_memory()?;
/// db.update(|tx| {
///     write(tx, &POSTS, 1, &mut Post { tags: vec!["rust".into()] });
///     write(tx, &POSTS, 2, &mut Post { tags: vec!["rust".into(), "db".into()] });
///     Ok::<_, Error>(())
/// })?;
/// let indexed = rebuild_index(&db, &BY_TAG, &POSTS, 1000, |_, post, terms| {
///     terms.extend(post.tags.iter().map(|t| (t.clone(), 0u16)));
/// }, |_| {})?;
/// assert_eq!(indexed, 2);
/// assert_eq!(read_term_count(&db.read_tx()?, &BY_TAG, "rust")?, 2);
/// # Ok::<(), vbolt::Error>(())
/// ```
pub fn rebuild_index<K, V, T, P>(
    db: &Db,
    index: &Index<T, K, P>,
    bucket: &Bucket<K, V>,
    batch_size: usize,
    mut terms: impl FnMut(&K, &V, &mut Vec<(T, P)>),
    progress: impl FnMut(Progress),
) -> Result<u64, Error>
where
    K: Clone + Blank + PartialEq,
    V: Default,
    T: Clone + Blank + PartialEq,
    P: Clone,
{
    let total = {
        let tx = db.read_tx()?;
        let n = tx.raw().table_len(bucket.table.full_name())?.unwrap_or(0);
        tx.finish()?;
        n
    };
    let mut tx = db.write_tx()?;
    for table in &index.tables {
        tx.clear_table(table);
    }
    tx.commit()?;

    let mut reporter = Reporter::new(total, progress);
    let mut pairs = Vec::new();
    tx_write_batches(db, bucket, batch_size, |tx, key, value| {
        pairs.clear();
        terms(&key, &value, &mut pairs);
        set_target_terms(tx, index, &key, pairs.iter().map(|(t, p)| (t, p)));
        reporter.add(1);
    })?;
    Ok(reporter.finish())
}
