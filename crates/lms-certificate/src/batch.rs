//! Rendering many certificates on worker threads, delivered in input order.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use chrono::{DateTime, Utc};

use crate::Error;
use crate::fonts::Fonts;
use crate::model::Certificate;
use crate::render::render;
use crate::template::Template;

/// Renders `certificates` on `workers` threads and hands each result to `sink` in input order
/// (`sink(index, result)`), so the caller can stream them into a zip and drive a progress bar.
/// Only a few finished PDFs are held at any time. `sink` returning `ControlFlow::Break` stops
/// the batch (already started renders finish and are dropped). One failing certificate does not
/// stop the others: its error is passed to `sink`.
///
/// Blocking: call it from a thread of its own (e.g. `tokio::task::spawn_blocking`), not from
/// an async worker.
pub fn render_batch(
    certificates: &[Certificate],
    template: &Template,
    fonts: &Fonts,
    issued_at: DateTime<Utc>,
    workers: NonZeroUsize,
    mut sink: impl FnMut(usize, Result<Vec<u8>, Error>) -> ControlFlow<()>,
) {
    let workers = workers.get().min(certificates.len().max(1));
    if workers == 1 {
        for (index, certificate) in certificates.iter().enumerate() {
            if sink(index, render(certificate, template, fonts, issued_at)).is_break() {
                return;
            }
        }
        return;
    }
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (sender, receiver) = mpsc::sync_channel::<(usize, Result<Vec<u8>, Error>)>(workers * 2);
    std::thread::scope(|scope| {
        // Owned by this closure: returning early drops it, so blocked workers stop sending.
        let receiver = receiver;
        for _ in 0..workers {
            let sender = sender.clone();
            let (next, stop) = (&next, &stop);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(certificate) = certificates.get(index) else {
                        break;
                    };
                    let result = render(certificate, template, fonts, issued_at);
                    if sender.send((index, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut pending: BTreeMap<usize, Result<Vec<u8>, Error>> = BTreeMap::new();
        let mut expected = 0;
        for (index, result) in receiver.iter() {
            pending.insert(index, result);
            while let Some(result) = pending.remove(&expected) {
                if sink(expected, result).is_break() {
                    stop.store(true, Ordering::Relaxed);
                    return;
                }
                expected += 1;
            }
        }
    });
}
