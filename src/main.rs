//! Provisio's web app: mounts the shell into the page.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(provisio::app::App);
}
