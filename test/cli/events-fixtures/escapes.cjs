// a function whose output carries terminal control: a window title (OSC 0), a colour, a clipboard write (OSC 52)
exports.main_handler = async () => {
  console.log('title \u001b]0;pwned\u0007 red \u001b[31mRED\u001b[0m clip \u001b]52;c;ZXZpbA==\u0007 end')
  return 'ok'
}
