//! A scripted group chat on an embedded database file, printing what each
//! user sees.
//!
//! Run: `cargo run -p vbolt-examples --example chat` (the database is
//! `data/chat.vbolt`, created fresh each run).

use std::error::Error;

use vbolt::{Db, ReadTx};
use vbolt_examples::chat::{self, Clock, User};

fn show_threads(
    tx: &ReadTx,
    user: &User,
    names: &dyn Fn(&uuid::Uuid) -> String,
) -> Result<(), vbolt::Error> {
    let (threads, _) = chat::list_threads(tx, user.id, 10, None)?;
    println!(
        "  @{} sees {} thread(s), most recent first:",
        user.handle,
        threads.len()
    );
    for t in threads {
        let who: Vec<String> = t
            .thread
            .participants
            .iter()
            .filter(|p| **p != user.id)
            .map(names)
            .collect();
        let marker = if t.unread { "●  unread" } else { "   read" };
        println!(
            "    {marker}  with {} ({} messages)",
            who.join(", "),
            chat::message_count(tx, t.thread.id)?
        );
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    std::fs::create_dir_all("data")?;
    let path = std::path::Path::new("data/chat.vbolt");
    if path.exists() {
        std::fs::remove_file(path)?;
    }
    let db: Db = chat::open(path)?;
    let mut clock = Clock::new();

    // Three people sign up; a fourth tries to take a handle that is taken.
    let mut tx = db.write_tx()?;
    let ann = chat::create_user(&mut tx, "ann", "Ann Lee").unwrap();
    let bo = chat::create_user(&mut tx, "bo", "Bo Park").unwrap();
    let cy = chat::create_user(&mut tx, "cy", "Cy Young").unwrap();
    let refused = chat::create_user(&mut tx, "ann", "Another Ann");
    tx.commit()?;
    println!("signed up @ann, @bo, @cy; a second @ann: {refused:?}");

    let users = [ann.clone(), bo.clone(), cy.clone()];
    let names = |id: &uuid::Uuid| {
        users
            .iter()
            .find(|u| u.id == *id)
            .map_or("?".to_string(), |u| format!("@{}", u.handle))
    };

    // Ann starts a team thread with everyone, and a direct thread with Bo.
    let mut tx = db.write_tx()?;
    let team = chat::start_thread(&mut tx, &[ann.id, bo.id, cy.id], clock.tick()).unwrap();
    let direct = chat::start_thread(&mut tx, &[ann.id, bo.id], clock.tick()).unwrap();
    tx.commit()?;

    let script: &[(&User, &chat::Thread, &str)] = &[
        (&ann, &team, "Morning all! Stand-up in 10?"),
        (&bo, &team, "Sure, joining."),
        (&ann, &direct, "Bo, can you review the index PR?"),
        (&cy, &team, "Running late, start without me."),
        (&bo, &direct, "On it after stand-up."),
        (&ann, &team, "Notes: cursors are keyset, counts are exact."),
        (&bo, &team, "Benchmarks look good."),
    ];
    for (sender, thread, text) in script {
        let mut tx = db.write_tx()?;
        chat::post_message(&mut tx, sender.id, thread.id, text, clock.tick()).unwrap();
        tx.commit()?;
        println!(
            "{} → {}: {text}",
            names(&sender.id),
            if thread.id == team.id {
                "team"
            } else {
                "direct"
            }
        );
    }

    println!("\nThread lists:");
    let tx = db.read_tx()?;
    for u in &users {
        show_threads(&tx, u, &names)?;
    }
    drop(tx);

    println!("\n@cy opens the team thread, newest first, 3 per page:");
    let tx = db.read_tx()?;
    let mut cursor = None;
    let mut page_no = 1;
    loop {
        let (page, next) = chat::read_messages(&tx, team.id, 3, cursor)?;
        println!(
            "  page {page_no} (cursor for the next: {}):",
            next.as_ref().map_or("none".into(), |c| c.to_string())
        );
        for m in &page {
            println!("    {}: {}", names(&m.sender_id), m.content);
        }
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
        page_no += 1;
    }
    drop(tx);

    let mut tx = db.write_tx()?;
    chat::mark_read(&mut tx, cy.id, team.id, clock.tick()).unwrap();
    tx.commit()?;
    println!("\nAfter @cy reads the team thread:");
    let tx = db.read_tx()?;
    show_threads(&tx, &cy, &names)?;
    println!(
        "\ndatabase file: {} ({} bytes)",
        path.display(),
        std::fs::metadata(path)?.len()
    );
    Ok(())
}
