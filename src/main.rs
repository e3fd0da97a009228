fn main() {
    std::process::exit(missive::cli::main());
}
